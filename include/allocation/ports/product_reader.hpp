// allocation — the ProductReader port: committed state read outside any unit of work.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_PORTS_PRODUCT_READER_HPP
#define ALLOCATION_PORTS_PRODUCT_READER_HPP

#include <concepts>  // same_as
#include <cstdint>   // uint64_t
#include <optional>  // optional
#include <vector>    // vector

#include <allocation/domain/commands.hpp>
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

/// A product as committed: its version, what it has available, and its batches in the order
/// its strategy prefers them.
template <class Traits>
struct basic_product_state {
    typename Traits::sku_type sku{};
    std::uint64_t version = 0;
    typename Traits::quantity_type available{};
    std::vector<basic_batch_state<Traits>> batches;
    friend auto operator==(const basic_product_state&, const basic_product_state&) -> bool = default;
};
using product_state = basic_product_state<default_traits>;

/// The state of a batch.
template <class Batch>
[[nodiscard]] auto batch_state_of(const Batch& b) -> basic_batch_state<typename Batch::traits_type> {
    return {b.ref(), b.sku(), b.purchased(), b.allocated(), b.eta(), b.expires(), b.held()};
}

/// The state of a product (its batches in preference order).
template <class Product>
[[nodiscard]] auto state_of(const Product& p) -> basic_product_state<typename Product::traits_type> {
    basic_product_state<typename Product::traits_type> out{p.sku(), p.version(), p.available(), {}};
    const auto order = p.preference_order();
    out.batches.reserve(order.size());
    for (const auto* b : order) out.batches.push_back(batch_state_of(*b));
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

/// Reads of committed state, outside any unit of work: they never take a lock a writer takes
/// (no product held, no row locked for update), never wait for a unit of work to end, and see
/// only what was committed. Every store of the library models it; the bus's read-model observer
/// and the example service's GET endpoints use it.
template <class R, class Traits = default_traits>
concept product_reader = reads_products<R, Traits> && reads_batches<R, Traits> && reads_allocations<R, Traits>;

}  // namespace allocation

#endif  // ALLOCATION_PORTS_PRODUCT_READER_HPP
