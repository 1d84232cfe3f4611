// allocation — the ProductReader port: committed state read outside any unit of work.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_PORTS_PRODUCT_READER_HPP
#define ALLOCATION_PORTS_PRODUCT_READER_HPP

#include <algorithm>  // sort, find_if, remove_if
#include <concepts>   // same_as
#include <cstdint>    // uint64_t
#include <optional>   // optional
#include <vector>     // vector

#include <allocation/domain/backorder.hpp>
#include <allocation/domain/commands.hpp>
#include <allocation/domain/hold.hpp>
#include <allocation/domain/types.hpp>
#include <allocation/error.hpp>

namespace allocation {

/// A batch as committed: what GET /products shows of it.
template <class Traits>
struct basic_batch_state {
    typename Traits::batch_ref_type ref{};
    typename Traits::sku_type sku{};
    typename Traits::quantity_type purchased{};
    typename Traits::quantity_type allocated{};
    std::optional<typename Traits::date_type> eta{};
    std::optional<typename Traits::date_type> expires{};
    /// Held by live holds, as of the latest time the product was given.
    typename Traits::quantity_type held{};
    [[nodiscard]] auto available() const -> typename Traits::quantity_type { return purchased - allocated - held; }
    friend auto operator==(const basic_batch_state&, const basic_batch_state&) -> bool = default;
};
using batch_state = basic_batch_state<default_traits>;

/// A product as committed: its version, what it has available, its batches in the order its
/// strategy prefers them, the holds its batches count as `held` and its backorders.
///
/// The holds are those live as of the latest time the product was given when it was committed
/// (or, read from a database, every stored hold not swept yet), in placement order; at(now)
/// gives the state as of a later time, without the holds past their deadline then.
template <class Traits>
struct basic_product_state {
    typename Traits::sku_type sku{};
    std::uint64_t version = 0;
    typename Traits::quantity_type available{};
    std::vector<basic_batch_state<Traits>> batches;
    std::vector<basic_hold<Traits>> holds{};
    /// In the order they are filled: higher priority first, then earlier first.
    std::vector<basic_backorder<Traits>> backorders{};
    friend auto operator==(const basic_product_state&, const basic_product_state&) -> bool = default;

    /// The state at time `now`: a hold whose deadline is at or before `now` no longer counts in
    /// its batch nor in `available`, and is not listed (as the product given `now` would count
    /// them; stock it frees is shown available even where a backorder takes it at the product's
    /// next command). O(H + B) when some hold is past its deadline, else a copy.
    [[nodiscard]] auto at(timestamp now) const -> basic_product_state {
        auto out = *this;
        const auto past = [&](const basic_hold<Traits>& h) { return h.expires_at <= now; };
        for (const auto& h : holds) {
            if (!past(h)) continue;
            const auto b = std::find_if(out.batches.begin(), out.batches.end(), [&](const auto& s) { return s.ref == h.batch; });
            if (b != out.batches.end()) b->held = b->held - h.qty;
            out.available = out.available + h.qty;
        }
        out.holds.erase(std::remove_if(out.holds.begin(), out.holds.end(), past), out.holds.end());
        return out;
    }
};
using product_state = basic_product_state<default_traits>;

/// The state of a batch.
template <class Batch>
[[nodiscard]] auto batch_state_of(const Batch& b) -> basic_batch_state<typename Batch::traits_type> {
    return {b.ref(), b.sku(), b.purchased(), b.allocated(), b.eta(), b.expires(), b.held()};
}

/// The holds of a product that count against its batches (not past their deadline as of the
/// product's latest time), in placement order.
template <class Product>
[[nodiscard]] auto live_holds_of(const Product& p) -> std::vector<basic_hold<typename Product::traits_type>> {
    std::vector<basic_hold<typename Product::traits_type>> out;
    if (p.holds().empty()) return out;
    for (const auto& [order, h] : p.holds()) {
        if (!h.lapsed) out.push_back(p.hold_of(order, h));
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.sequence < b.sequence; });
    return out;
}

/// The state of a product (its batches in preference order).
template <class Product>
[[nodiscard]] auto state_of(const Product& p) -> basic_product_state<typename Product::traits_type> {
    basic_product_state<typename Product::traits_type> out{p.sku(), p.version(), p.available(), {}};
    const auto order = p.preference_order();
    out.batches.reserve(order.size());
    for (const auto* b : order) out.batches.push_back(batch_state_of(*b));
    out.holds = live_holds_of(p);
    if (p.backorder_count() != 0) out.backorders = p.backorders();
    return out;
}

/// `r.read_product(sku)`: the committed state of a product, none when the SKU is unknown.
template <class R, class Traits>
concept reads_products = requires(R& r, const typename Traits::sku_type& sku) {
    { r.read_product(sku) } -> std::same_as<result<std::optional<basic_product_state<Traits>>>>;
};

/// `r.read_batch(ref)`: a committed batch, none when no product has it.
template <class R, class Traits>
concept reads_batches = requires(R& r, const typename Traits::batch_ref_type& ref) {
    { r.read_batch(ref) } -> std::same_as<result<std::optional<basic_batch_state<Traits>>>>;
};

/// `r.read_allocations(order)`: where an order's lines are allocated, one entry per batch a
/// line is in (SKU, quantity in that batch, batch), in allocation order; empty when none.
template <class R, class Traits>
concept reads_allocations = requires(R& r, const typename Traits::order_id_type& order) {
    { r.read_allocations(order) } -> std::same_as<result<std::vector<basic_line_allocation<Traits>>>>;
};

/// One line of an order's hold as read: its SKU and the hold.
template <class Traits>
struct basic_held_line {
    typename Traits::sku_type sku{};
    basic_hold<Traits> hold{};
    friend auto operator==(const basic_held_line&, const basic_held_line&) -> bool = default;
};
using held_line = basic_held_line<default_traits>;

/// `r.read_holds(order)`: the order's holds not swept yet, one per SKU (a hold past its deadline
/// may be among them: its `expires_at` tells), in SKU order; empty when none. Optional beside
/// product_reader; every store of the library models it.
template <class R, class Traits = default_traits>
concept reads_holds = requires(R& r, const typename Traits::order_id_type& order) {
    { r.read_holds(order) } -> std::same_as<result<std::vector<basic_held_line<Traits>>>>;
};

/// Reads of committed state, outside any unit of work: they never take a lock a writer takes
/// (no product held, no row locked for update), never wait for a unit of work to end, and see
/// only what was committed. Every store of the library models it; the bus's read-model observer
/// and the example service's GET endpoints use it.
template <class R, class Traits = default_traits>
concept product_reader = reads_products<R, Traits> && reads_batches<R, Traits> && reads_allocations<R, Traits>;

}  // namespace allocation

#endif  // ALLOCATION_PORTS_PRODUCT_READER_HPP
