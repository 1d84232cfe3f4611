// allocation — the product aggregate: every batch of one SKU, the lines allocated to them, the
// version number and the events it raised.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_DOMAIN_PRODUCT_HPP
#define ALLOCATION_DOMAIN_PRODUCT_HPP

#include <algorithm>      // stable_sort, find_if, min, push_heap, pop_heap, make_heap, sort
#include <cstddef>        // size_t
#include <cstdint>        // uint32_t, uint64_t, int64_t
#include <functional>     // greater
#include <iterator>       // next
#include <map>            // map
#include <optional>       // optional
#include <span>           // span
#include <unordered_map>  // unordered_map
#include <utility>        // move, exchange
#include <variant>        // get_if, in_place_type
#include <vector>         // vector

#include <boost/container/small_vector.hpp>

#include <allocation/detail/flat_map.hpp>
#include <allocation/detail/hash.hpp>
#include <allocation/domain/backorder.hpp>
#include <allocation/domain/batch.hpp>
#include <allocation/domain/commands.hpp>
#include <allocation/domain/events.hpp>
#include <allocation/domain/hold.hpp>
#include <allocation/domain/order_line.hpp>
#include <allocation/domain/traits.hpp>
#include <allocation/domain/types.hpp>
#include <allocation/domain/validation.hpp>
#include <allocation/error.hpp>
#include <allocation/fwd.hpp>
#include <allocation/strategies/strategy.hpp>
#include <allocation/strategies/warehouse_first.hpp>
#include <allocation/try.hpp>

namespace allocation {

namespace detail {
/// The hash of the product's batch reference map: std::hash of the key, but not noexcept, so that libstdc++
/// keeps each node's hash code (it does not for "fast" noexcept hashes of strings): lookups
/// compare hash codes before keys, and a rehash never hashes a key again.
template <class Key>
struct stored_hash {
    auto operator()(const Key& key) const -> std::size_t { return std::hash<Key>{}(key); }  // NOLINT
};
}  // namespace detail

/// What a product knows besides its batches and their allocations, in the form storage keeps
/// it: its holds in the order they were placed (live ones and those past their deadline not yet
/// swept) and its backorders in the order they are filled. A product gives it (facts()) and is
/// given it back after it was built from its batches (restore()); a store persisting products
/// writes and reads these records, and each new kind of fact joins this struct.
template <class Traits>
struct basic_product_facts {
    std::vector<basic_hold<Traits>> holds;
    std::vector<basic_backorder<Traits>> backorders;
    friend auto operator==(const basic_product_facts&, const basic_product_facts&) -> bool = default;
};
using product_facts = basic_product_facts<default_traits>;

/// The aggregate root for one SKU. Every change goes through it, so it keeps the rules: no
/// batch ever has more allocated than purchased, an order line is allocated at most once, and
/// every state change increments the version (for optimistic concurrency in storage adapters)
/// and raises events.
///
/// A product is not thread-safe; a unit of work gives one writer at a time access to it.
/// Changes can be tracked from a checkpoint(), then undone with rollback() or kept with
/// accept(); storage adapters read the tracked changes() to write only what changed.
///
/// Holds reserve stock of one batch for an order line until a deadline; time is given to the
/// product as a parameter (`now`) by the operations that judge holds, and advance(now) brings
/// it forward: a hold whose deadline is at or before the latest time the product was given
/// never counts against its batch, whether or not expire_holds() swept it. Operations that take
/// no `now` judge holds at that latest time. Backorders (allocate_available()) are filled as
/// stock becomes available, higher priority first, then earlier first. A product without holds
/// or backorders pays a branch or two for them.
///
/// @tparam Strategy which batch takes a line (see allocation_strategy).
/// @tparam Traits the identifier, quantity and date types (see default_traits).
template <class Strategy, class Traits>
class basic_product {
    static_assert(detail::check_traits<Traits>(), "Traits must model domain_traits (domain/traits.hpp)");

public:
    using strategy_type = Strategy;
    using traits_type = Traits;
    using batch_type = basic_batch<Traits>;
    using line_type = basic_order_line<Traits>;
    using event_type = events::basic_event<Traits>;
    using replenishment_type = basic_replenishment<Traits>;
    using allocation_type = basic_line_allocation<Traits>;
    using hold_type = basic_hold<Traits>;
    using backorder_type = basic_backorder<Traits>;
    using facts_type = basic_product_facts<Traits>;
    using sku_type = typename Traits::sku_type;
    using batch_ref_type = typename Traits::batch_ref_type;
    using order_id_type = typename Traits::order_id_type;
    using quantity_type = typename Traits::quantity_type;
    using date_type = typename Traits::date_type;

    static_assert(allocation_strategy<Strategy, batch_type>,
                  "Strategy must model allocation_strategy: a prefers(a, b) member and an index");

    /// One batch's share of an allocated order line.
    struct part {
        std::uint32_t batch;  ///< index into batches()
        quantity_type qty;
    };

    /// An allocated order line: its whole quantity, where it is (one part unless split), and the
    /// caller's context it was allocated with (kept in memory only: a product rebuilt from
    /// storage has line_context_t{} for every line).
    struct line_record {
        quantity_type qty;
        boost::container::small_vector<part, 1> parts;
        [[no_unique_address]] line_context_t<Traits> context{};
    };

    /// Allocated lines by order id: a flat hash map (no allocation per line) whose iteration
    /// yields (order id, line_record) pairs in no particular order.
    using line_map = detail::flat_map<order_id_type, line_record, detail::id_hash<order_id_type>>;

    /// A hold of an order line, by the index of its batch.
    struct hold_record {
        quantity_type qty;
        std::uint32_t batch;  ///< index into batches()
        timestamp expires_at;
        std::uint32_t lines;  ///< see basic_hold::lines
        std::uint64_t sequence;
        /// Past its deadline (as of now()) and not swept yet: no longer counted in its batch.
        bool lapsed = false;
    };

    /// Holds by order id (live and lapsed), in no particular order.
    using hold_map = detail::flat_map<order_id_type, hold_record, detail::id_hash<order_id_type>>;

    /// A hold placed (placed = true) or the live hold of the same lines that answered instead.
    struct placed_hold {
        hold_type hold;
        bool placed = true;
    };

    /// What allocate_available() did with a line: the parts allocated (batch, quantity) in the
    /// order taken, what was queued as a backorder and what was left unallocated.
    struct line_outcome {
        std::vector<allocation_type> allocated;
        quantity_type backordered{};
        quantity_type unallocated{};
        friend auto operator==(const line_outcome&, const line_outcome&) -> bool = default;
    };

    /// One tracked change, in the order it was made.
    struct change {
        enum class kind : std::uint8_t {
            batch_added,       ///< batches()[batch] was added
            allocated,         ///< `qty` of `order` was allocated to batches()[batch]
            deallocated,       ///< `qty` of `order` left batches()[batch] (from `position`)
            quantity_changed,  ///< batches()[batch]'s purchased quantity was `old_qty`
            hold_placed,       ///< tracked_hold(c) was placed on batches()[batch]
            hold_removed,      ///< tracked_hold(c) left batches()[batch] (confirmed, released, expired)
            hold_lapsed,       ///< `order`'s hold of `qty` on batches()[batch] passed its deadline: it no
                               ///< longer counts (nothing to store: the stored hold has its deadline)
            backorder_added,   ///< tracked_backorder(c) was queued (`batch` means nothing)
            backorder_changed, ///< `order`'s backorder now owes `qty`; it owed `old_qty` (`batch` means nothing)
            backorder_removed, ///< tracked_backorder(c) left the queue, filled or cancelled (`batch` means nothing)
        };
        kind what;
        std::uint32_t batch;
        order_id_type order{};
        quantity_type qty{};
        quantity_type old_qty{};        ///< quantity_changed: the previous purchased quantity;
                                        ///< deallocated: the whole line's quantity
        std::uint32_t position = 0;     ///< deallocated: where the entry was in the batch; hold and
                                        ///< backorder changes: their record (tracked_hold, tracked_backorder)
        [[no_unique_address]] line_context_t<Traits> context{};  ///< deallocated: the line's context
    };

    /// An empty product.
    explicit basic_product(sku_type code, replenishment_type rule = {}, Strategy strategy = {})
        : basic_product(std::move(code), {}, 0, std::move(rule), std::move(strategy)) {}

    /// A product loaded from storage: its batches in the order they were added, each with its
    /// allocations oldest first, and its stored version. Its holds and backorders, if any, are
    /// given next by restore().
    basic_product(sku_type code, std::vector<batch_type> batches, std::uint64_t version,
                  replenishment_type rule = {}, Strategy strategy = {})
        : sku_(std::move(code)),
          batches_(std::move(batches)),
          version_(version),
          rule_(std::move(rule)),
          strategy_(std::move(strategy)) {
        refs_.reserve(batches_.size());
        std::size_t entries = 0;
        for (const auto& b : batches_) entries += b.allocations().size();
        lines_.reserve(entries);
        for (std::size_t i = 0; i < batches_.size(); ++i) {
            auto& b = batches_[i];
            b.held_ = quantity_type{};  // what is held comes with the holds, from restore()
            refs_.emplace(b.ref(), static_cast<std::uint32_t>(i));
            available_ += b.available();
            for (const auto& e : b.allocations()) {
                auto& rec = lines_[e.order];
                rec.qty += e.qty;
                rec.parts.push_back({static_cast<std::uint32_t>(i), e.qty});
            }
        }
        // A product that never received stock is not low yet: its first receipt at or below the
        // reorder point is a crossing.
        low_ = !batches_.empty() && is_low();
    }

    // -- queries ---------------------------------------------------------------------------

    [[nodiscard]] auto sku() const noexcept -> const sku_type& { return sku_; }
    /// Incremented by every state change.
    [[nodiscard]] auto version() const noexcept -> std::uint64_t { return version_; }
    /// Batches in the order they were added.
    [[nodiscard]] auto batches() const noexcept -> std::span<const batch_type> { return batches_; }
    /// Units that can still be allocated, over every batch.
    [[nodiscard]] auto available() const noexcept -> quantity_type { return available_; }
    [[nodiscard]] auto replenishment() const noexcept -> const replenishment_type& { return rule_; }
    [[nodiscard]] auto strategy() const noexcept -> const Strategy& { return strategy_; }
    /// The batch with reference `ref`, or nullptr.
    [[nodiscard]] auto find_batch(const batch_ref_type& ref) const -> const batch_type* {
        const auto it = refs_.find(ref);
        return it == refs_.end() ? nullptr : &batches_[it->second];
    }
    /// Where the order's line of this SKU is allocated, or nullptr.
    [[nodiscard]] auto find_line(const order_id_type& order) const -> const line_record* {
        const auto it = lines_.find(order);
        return it == lines_.end() ? nullptr : &it->second;
    }
    /// Every allocated line by order id.
    [[nodiscard]] auto lines() const noexcept -> const line_map& {
        return lines_;
    }
    /// The latest time the product was given (advance() and the operations taking `now`).
    [[nodiscard]] auto now() const noexcept -> timestamp { return now_; }
    /// Every hold by order id: live ones and lapsed ones (past their deadline, not swept yet).
    [[nodiscard]] auto holds() const noexcept -> const hold_map& { return holds_; }
    /// The order's hold of this SKU, live or lapsed, or nullptr.
    [[nodiscard]] auto find_hold(const order_id_type& order) const -> const hold_record* {
        const auto it = holds_.find(order);
        return it == holds_.end() ? nullptr : &it->second;
    }
    /// A hold as stored: its batch by reference.
    [[nodiscard]] auto hold_of(const order_id_type& order, const hold_record& h) const -> hold_type {
        return {order, h.qty, batches_[h.batch].ref(), h.expires_at, h.lines, h.sequence};
    }
    /// The order's backorder of this SKU, or none.
    [[nodiscard]] auto find_backorder(const order_id_type& order) const -> std::optional<backorder_type> {
        const auto k = backorder_index_.find(order);
        if (k == backorder_index_.end()) return std::nullopt;
        return backorder_of(k->second, backorders_.find(k->second)->second);
    }
    /// The backorders, in the order they are filled (higher priority first, then earlier first).
    [[nodiscard]] auto backorders() const -> std::vector<backorder_type> {
        std::vector<backorder_type> out;
        out.reserve(backorders_.size());
        for (const auto& [key, entry] : backorders_) out.push_back(backorder_of(key, entry));
        return out;
    }
    /// The number of backorders.
    [[nodiscard]] auto backorder_count() const noexcept -> std::size_t { return backorders_.size(); }
    /// The holds (in the order they were placed) and backorders (in fill order), as storage
    /// keeps them; restore() takes them back.
    [[nodiscard]] auto facts() const -> facts_type {
        facts_type out;
        out.holds.reserve(holds_.size());
        for (const auto& [order, h] : holds_) out.holds.push_back(hold_of(order, h));
        std::sort(out.holds.begin(), out.holds.end(),
                  [](const hold_type& a, const hold_type& b) { return a.sequence < b.sequence; });
        out.backorders = backorders();
        return out;
    }
    /// Batches in the order the strategy prefers them now (O(B log B)): a line goes to the first
    /// of them that is eligible and can take it whole.
    [[nodiscard]] auto preference_order() const -> std::vector<const batch_type*> {
        return sorted_by([&](const batch_type& a, const batch_type& b) { return strategy_.prefers(a, b); });
    }
    /// Batches in the order the strategy prefers them for `line` (its line preference when it has
    /// one, see line_preference; else preference_order()).
    [[nodiscard]] auto preference_order(const line_type& line) const -> std::vector<const batch_type*> {
        if constexpr (line_preference<Strategy, batch_type, line_type>) {
            return sorted_by([&](const batch_type& a, const batch_type& b) { return strategy_.prefers(a, b, line); });
        } else {
            return preference_order();
        }
    }

    // -- commands ----------------------------------------------------------------------------

    /// Allocates a line to the batch the strategy prefers among those that can take it whole.
    /// A line already allocated (same order id) is answered with its batch and changes nothing.
    /// Errors: errc::sku_mismatch, invalid_identifier, invalid_quantity,
    /// conflicting_resubmission (allocated with another quantity), out_of_stock (an OutOfStock
    /// event is raised; nothing else changes). O(log B) with the default index.
    auto allocate(const line_type& line) -> result<batch_ref_type> {
        ALLOCATION_TRYV(check_line(line));
        if (!holds_.empty() || !backorders_.empty()) [[unlikely]] {
            ALLOCATION_TRYV(check_not_held_or_queued(line.order));
        }
        // One lookup for both the resubmission check and the insertion.
        const auto [it, inserted] = lines_.try_emplace(line.order);
        if (!inserted) {
            if (it->second.qty != line.qty) return errc::conflicting_resubmission;
            return result<batch_ref_type>{BOOST_OUTCOME_V2_NAMESPACE::in_place_type<batch_ref_type>,
                                          batches_[it->second.parts.front().batch].ref()};
        }
        const auto found = choose(line);
        if (!found) {
            lines_.erase(it);
            events_.emplace_back(events::basic_out_of_stock<Traits>{line.order, line.sku, line.qty});
            return errc::out_of_stock;
        }
        const auto i = static_cast<std::uint32_t>(*found);
        auto& rec = it->second;
        rec.qty = line.qty;
        rec.context = line.context;
        place(i, line.order, line.qty, rec);
        ++version_;
        raise_allocated(line.order, line.qty, i);
        check_low_stock();
        return result<batch_ref_type>{BOOST_OUTCOME_V2_NAMESPACE::in_place_type<batch_ref_type>, batches_[i].ref()};
    }

    /// Allocates a line whole when a batch can take it (as allocate()), else split over several
    /// batches as the strategy's index plans it, all or nothing: one Allocated event per part.
    /// allocate() never splits; this is the opt-in. A line already allocated is answered with
    /// its parts and changes nothing. Returns the parts (batch, quantity) in the order taken.
    /// Errors: as allocate(); out_of_stock when the eligible batches together cannot cover the
    /// line. O(k log B) for k parts with the shipped strategies.
    auto allocate_split(const line_type& line) -> result<std::vector<allocation_type>> {
        ALLOCATION_TRYV(check_line(line));
        if (!holds_.empty() || !backorders_.empty()) [[unlikely]] {
            ALLOCATION_TRYV(check_not_held_or_queued(line.order));
        }
        if (const auto it = lines_.find(line.order); it != lines_.end()) {
            if (it->second.qty != line.qty) return errc::conflicting_resubmission;
            return parts_of(it->second);
        }
        boost::container::small_vector<part, 4> plan;
        if (const auto found = choose(line)) {
            plan.push_back({static_cast<std::uint32_t>(*found), line.qty});
        } else if (!plan_split(line, plan)) {
            events_.emplace_back(events::basic_out_of_stock<Traits>{line.order, line.sku, line.qty});
            return errc::out_of_stock;
        }
        auto& rec = lines_[line.order];
        rec.qty = line.qty;
        rec.context = line.context;
        for (const auto& p : plan) {
            place(p.batch, line.order, p.qty, rec);
            raise_allocated(line.order, p.qty, p.batch);
        }
        ++version_;
        check_low_stock();
        return parts_of(rec);
    }

    /// allocate(line) at time `now` (advance(now) first).
    auto allocate(const line_type& line, timestamp now) -> result<batch_ref_type> {
        advance(now);
        return allocate(line);
    }
    /// allocate_split(line) at time `now` (advance(now) first).
    auto allocate_split(const line_type& line, timestamp now) -> result<std::vector<allocation_type>> {
        advance(now);
        return allocate_split(line);
    }

    /// Allocates what is available of a line under `policy`: all_or_nothing as allocate();
    /// partial takes what the eligible batches have, whole in one batch when one can take it,
    /// else split in preference order, and leaves the rest unallocated; backorder does the same
    /// and queues the rest at `priority` (a Backordered event), to be filled as stock arrives.
    /// A line already allocated or queued is answered with what it has (allocated + queued =
    /// the quantity asked; under partial, a line with nothing queued and less allocated leaves
    /// the difference unallocated) and changes nothing. One Allocated event per part.
    /// Errors: as allocate() (but out_of_stock only under all_or_nothing); hold_conflict when
    /// the order has a live hold of this SKU. O(B) for the eligible stock, then as
    /// allocate_split().
    auto allocate_available(const line_type& line, order_policy policy, std::int64_t priority = 0)
        -> result<line_outcome> {
        if (policy == order_policy::all_or_nothing) {
            ALLOCATION_TRYV(allocate(line));
            return line_outcome{parts_of(lines_.find(line.order)->second), {}, {}};
        }
        ALLOCATION_TRYV(check_line(line));
        ALLOCATION_TRYV(check_not_held(line.order));
        settle();
        const auto allocated_line = lines_.find(line.order);
        const auto queued = find_backorder(line.order);
        if (allocated_line != lines_.end() || queued) {
            const auto a = allocated_line != lines_.end() ? allocated_line->second.qty : quantity_type{};
            const auto b = queued ? queued->qty : quantity_type{};
            auto parts = allocated_line != lines_.end() ? parts_of(allocated_line->second) : std::vector<allocation_type>{};
            if (a + b == line.qty) return line_outcome{std::move(parts), b, {}};
            if (policy == order_policy::partial && !queued && a < line.qty) {
                return line_outcome{std::move(parts), {}, line.qty - a};
            }
            return errc::conflicting_resubmission;
        }
        line_outcome out;
        const auto take = std::min(detail::count(line.qty), eligible_capacity());
        if (take > 0) {
            line_type part_line = line;
            part_line.qty = detail::make_quantity<quantity_type>(take);
            boost::container::small_vector<part, 4> plan;
            if (const auto found = choose(part_line)) {
                plan.push_back({static_cast<std::uint32_t>(*found), part_line.qty});
            } else if (!plan_split(part_line, plan)) {
                plan.clear();
            }
            if (!plan.empty()) {
                auto& rec = lines_[line.order];
                rec.qty = part_line.qty;
                rec.context = line.context;
                for (const auto& p : plan) {
                    place(p.batch, line.order, p.qty, rec);
                    raise_allocated(line.order, p.qty, p.batch);
                }
                out.allocated = parts_of(rec);
            }
        }
        quantity_type got{};
        for (const auto& a : out.allocated) got += a.qty;
        const auto rest = line.qty - got;
        if (rest > quantity_type{}) {
            if (policy == order_policy::backorder) {
                queue_backorder(line.order, rest, priority);
                out.backordered = rest;
            } else {
                out.unallocated = rest;
            }
        }
        if (got > quantity_type{} || out.backordered > quantity_type{}) {
            ++version_;
            check_low_stock();
        }
        return out;
    }

    /// Cancels the order's backorder of this SKU (what it has allocated stays); returns it.
    /// Raises BackorderCancelled. Errors: errc::invalid_identifier, not_backordered.
    auto cancel_backorder(const order_id_type& order) -> result<backorder_type> {
        if (!is_valid_id<Traits>(order)) return errc::invalid_identifier;
        const auto k = backorder_index_.find(order);
        if (k == backorder_index_.end()) return errc::not_backordered;
        const auto it = backorders_.find(k->second);
        auto out = backorder_of(it->first, it->second);
        drop_backorder(it);
        ++version_;
        events_.emplace_back(events::basic_backorder_cancelled<Traits>{out.order, sku_, out.qty});
        return out;
    }

    // -- holds -------------------------------------------------------------------------------

    /// Brings the product to time `now` (an earlier `now` than the latest one given changes
    /// nothing): holds whose deadline is at or before it stop counting against their batches,
    /// and backorders take the stock that frees (Allocated events). O(1) when no hold is due
    /// and nothing is backordered.
    void advance(timestamp now) {
        if (now > now_) now_ = now;
        if (!deadlines_.empty() && deadlines_.front().at <= now_) lapse_due();
        settle();
    }

    /// Holds `line.qty` of the order's line of this SKU until `expires_at`, whole in the batch the
    /// strategy prefers among those with that much neither allocated nor held (as allocate()
    /// chooses). `lines` is the number of lines of the order's whole hold. A live hold of the
    /// order with the same quantity and number of lines is answered (placed = false) and
    /// changes nothing; a lapsed one is expired (HoldExpired) and replaced. Raises HoldPlaced.
    /// Errors: errc::sku_mismatch, invalid_identifier, invalid_quantity (also `lines` zero),
    /// invalid_deadline (`expires_at` not after now), hold_conflict (a live hold of other
    /// lines, or the line is allocated or backordered), out_of_stock (nothing changes, no
    /// event). O(log B) with the default index.
    auto hold(const line_type& line, timestamp expires_at, timestamp now, std::uint32_t lines = 1)
        -> result<placed_hold> {
        ALLOCATION_TRYV(check_line(line));
        if (lines == 0) return errc::invalid_quantity;
        advance(now);
        if (expires_at <= now_) return errc::invalid_deadline;
        auto existing = holds_.find(line.order);
        if (existing != holds_.end() && !existing->second.lapsed) {
            const auto& h = existing->second;
            if (h.qty == line.qty && h.lines == lines) return placed_hold{hold_of(line.order, h), false};
            return errc::hold_conflict;
        }
        if (lines_.contains(line.order) || backorder_index_.contains(line.order)) return errc::hold_conflict;
        const auto found = choose(line);
        if (!found) return errc::out_of_stock;
        if (existing != holds_.end()) expire(existing);
        const auto i = static_cast<std::uint32_t>(*found);
        const auto& h = place_hold(line.order, line.qty, i, expires_at, lines);
        ++version_;
        events_.emplace_back(events::basic_hold_placed<Traits>{line.order, sku_, line.qty, batches_[i].ref(), expires_at});
        check_low_stock();
        return placed_hold{hold_of(line.order, h), true};
    }

    /// Confirms the order's live hold at time `now`: `qty` of it (none: all) becomes an
    /// allocation in the batch that held it (an Allocated event), the rest is released (a
    /// HoldReleased event, reason partly_confirmed) and taken by backorders. An order with no
    /// hold whose line is allocated (a confirmation done before) is answered with its
    /// allocation when `qty` is none or the allocated quantity.
    /// Errors: errc::invalid_identifier, invalid_quantity, not_held, hold_expired (past its
    /// deadline, not swept yet), exceeds_hold (`qty` above the held quantity).
    auto confirm_hold(const order_id_type& order, std::optional<quantity_type> qty, timestamp now)
        -> result<allocation_type> {
        if (!is_valid_id<Traits>(order)) return errc::invalid_identifier;
        if (qty && !is_valid_line_qty(*qty)) return errc::invalid_quantity;
        advance(now);
        const auto it = holds_.find(order);
        if (it == holds_.end()) {
            const auto done = lines_.find(order);
            if (done != lines_.end() && (!qty || *qty == done->second.qty)) return parts_of(done->second).front();
            return errc::not_held;
        }
        if (it->second.lapsed) return errc::hold_expired;
        if (lines_.contains(order)) return errc::hold_conflict;
        const auto h = it->second;
        const auto take = qty.value_or(h.qty);
        if (take > h.qty) return errc::exceeds_hold;
        drop_hold(it);
        auto& rec = lines_[order];
        rec.qty = take;
        place(h.batch, order, take, rec);
        ++version_;
        raise_allocated(order, take, h.batch);
        if (take < h.qty) {
            events_.emplace_back(events::basic_hold_released<Traits>{
                order, sku_, h.qty - take, batches_[h.batch].ref(), hold_release_reason::partly_confirmed});
            settle();
        }
        check_low_stock();
        return allocation_type{sku_, take, batches_[h.batch].ref()};
    }

    /// Releases the order's live hold at time `now`; returns it. Raises HoldReleased (reason
    /// requested); backorders take the stock. Errors: errc::invalid_identifier, not_held (none,
    /// or past its deadline).
    auto release_hold(const order_id_type& order, timestamp now) -> result<hold_type> {
        if (!is_valid_id<Traits>(order)) return errc::invalid_identifier;
        advance(now);
        const auto it = holds_.find(order);
        if (it == holds_.end() || it->second.lapsed) return errc::not_held;
        auto out = hold_of(order, it->second);
        events_.emplace_back(
            events::basic_hold_released<Traits>{order, sku_, out.qty, out.batch, hold_release_reason::requested});
        drop_hold(it);
        ++version_;
        settle();
        check_low_stock();
        return out;
    }

    /// Sweeps the holds past their deadline at `now`: each raises HoldExpired and is removed.
    /// Their stock stopped counting at their deadline already (advance()); this only tells and
    /// tidies. Returns the number of holds swept. O(k log H) for k holds due.
    auto expire_holds(timestamp now) -> std::size_t {
        advance(now);
        std::size_t swept = 0;
        for (const auto& [order, sequence] : std::exchange(lapsed_, {})) {
            const auto it = holds_.find(order);
            if (it == holds_.end() || it->second.sequence != sequence || !it->second.lapsed) continue;
            expire(it);
            ++swept;
        }
        if (swept > 0) ++version_;
        return swept;
    }

    /// The holds and backorders a product loaded from storage had (see facts()): given once,
    /// right after it was built from its batches and before any change.
    ///
    /// Storage keeps a hold until it is swept, also after its deadline, when its stock may have
    /// gone to other lines: a batch whose holds exceed what its allocations leave had its
    /// earliest holds lapse. Those are restored lapsed, earliest deadline first, until the batch
    /// fits; now() moves to their deadline, and the next sweep expires them (HoldExpired).
    /// Errors: errc::unknown_batch (a hold of a batch the product does not have),
    /// invalid_quantity, storage_error (its allocations alone exceed a batch's stock).
    auto restore(facts_type facts) -> result<void> {
        for (auto& h : facts.holds) {
            const auto b = refs_.find(h.batch);
            if (b == refs_.end()) return errc::unknown_batch;
            if (!is_valid_line_qty(h.qty) || h.lines == 0) return errc::invalid_quantity;
            auto& rec = holds_[h.order];
            rec = {h.qty, b->second, h.expires_at, h.lines, h.sequence, false};
            batches_[b->second].hold(h.qty);
            available_ -= h.qty;
            deadlines_.push_back({h.expires_at, h.sequence, h.order});
            next_sequence_ = std::max(next_sequence_, h.sequence + 1);
        }
        std::make_heap(deadlines_.begin(), deadlines_.end(), later{});
        for (auto& o : facts.backorders) {
            if (!is_valid_line_qty(o.qty)) return errc::invalid_quantity;
            const backorder_key key{o.priority, o.sequence};
            backorder_index_[o.order] = key;
            backorders_.insert_or_assign(key, backorder_entry{std::move(o.order), o.qty});
            next_sequence_ = std::max(next_sequence_, o.sequence + 1);
        }
        for (std::uint32_t i = 0; i < batches_.size(); ++i) {
            if (batches_[i].available() < quantity_type{}) lapse_to_fit(i);
            if (batches_[i].available() < quantity_type{}) return errc::storage_error;
        }
        dirty_ = true;
        low_ = !batches_.empty() && is_low();
        return success();
    }
    /// Adds a batch of this SKU. The same batch again succeeds and changes nothing.
    /// Errors: errc::sku_mismatch, invalid_identifier, invalid_quantity, duplicate_batch.
    auto add_batch(batch_ref_type ref, quantity_type qty, std::optional<date_type> eta = std::nullopt,
                   std::optional<date_type> expires = std::nullopt) -> result<void> {
        if (!is_valid_id<Traits>(ref)) return errc::invalid_identifier;
        if (!is_valid_batch_qty(qty)) return errc::invalid_quantity;
        if (const auto* existing = find_batch(ref)) {
            if (existing->purchased() == qty && existing->eta() == eta && existing->expires() == expires) {
                return success();
            }
            return errc::duplicate_batch;
        }
        const auto i = static_cast<std::uint32_t>(batches_.size());
        batches_.emplace_back(ref, sku_, qty, eta, expires);
        refs_.emplace(std::move(ref), i);
        available_ += qty;
        dirty_ = true;
        track({.what = change::kind::batch_added, .batch = i});
        ++version_;
        events_.emplace_back(events::basic_batch_created<Traits>{batches_[i].ref(), sku_, qty, eta});
        settle();
        check_low_stock();
        return success();
    }

    /// Removes an order line's allocation. `qty`, when given, must be the allocated quantity.
    /// Returns the batch it was taken from (the first, for a split line).
    /// Errors: errc::invalid_identifier, invalid_quantity, not_allocated, quantity_mismatch.
    auto deallocate(const order_id_type& order, std::optional<quantity_type> qty = std::nullopt)
        -> result<batch_ref_type> {
        if (!is_valid_id<Traits>(order)) return errc::invalid_identifier;
        if (qty && !is_valid_line_qty(*qty)) return errc::invalid_quantity;
        const auto it = lines_.find(order);
        if (it == lines_.end()) return errc::not_allocated;
        if (qty && *qty != it->second.qty) return errc::quantity_mismatch;
        auto ref = batches_[it->second.parts.front().batch].ref();
        release(it, deallocation_reason::requested);
        ++version_;
        settle();
        check_low_stock();
        return ref;
    }

    /// Sets a batch's purchased quantity. When less than is allocated and held remains, live
    /// holds of the batch are released first, the most recent first (HoldReleased, reason
    /// batch_shrunk), then whole lines are deallocated from it, the most recently allocated
    /// first, each raising a Deallocated event with reason batch_shrunk (the message bus
    /// reallocates them). Stock it gains goes to backorders first.
    /// Errors: errc::unknown_batch, invalid_quantity.
    auto change_batch_quantity(const batch_ref_type& ref, quantity_type qty) -> result<void> {
        if (!is_valid_batch_qty(qty)) return errc::invalid_quantity;
        const auto found = refs_.find(ref);
        if (found == refs_.end()) return errc::unknown_batch;
        const auto i = found->second;
        auto& b = batches_[i];
        const auto old = b.purchased();
        if (old == qty) return success();
        track({.what = change::kind::quantity_changed, .batch = i, .qty = qty, .old_qty = old});
        b.set_purchased(qty);
        available_ += qty - old;
        events_.emplace_back(events::basic_batch_quantity_changed<Traits>{b.ref(), sku_, old, qty});
        if (b.available() < quantity_type{} && b.held() > quantity_type{}) release_holds_of(i);
        while (b.available() < quantity_type{}) {
            const auto it = lines_.find(b.allocations().back().order);
            release(it, deallocation_reason::batch_shrunk);
        }
        refresh(i);
        ++version_;
        settle();
        check_low_stock();
        return success();
    }

    /// change_batch_quantity(ref, qty) at time `now` (advance(now) first).
    auto change_batch_quantity(const batch_ref_type& ref, quantity_type qty, timestamp now) -> result<void> {
        advance(now);
        return change_batch_quantity(ref, qty);
    }

    /// Sets the replenishment rule; a product already at or below the new reorder point raises
    /// LowStock. Errors: errc::invalid_quantity.
    auto set_replenishment(replenishment_type rule) -> result<void> {
        for (const auto& q : {rule.reorder_point, rule.max_level}) {
            if (q && !is_valid_batch_qty(*q)) return errc::invalid_quantity;
        }
        if (rule.multiple && !is_valid_line_qty(*rule.multiple)) return errc::invalid_quantity;
        if (rule == rule_) return success();
        rule_ = std::move(rule);
        ++version_;
        low_ = false;
        check_low_stock();
        return success();
    }

    // -- events ------------------------------------------------------------------------------

    /// Events raised and not yet taken.
    [[nodiscard]] auto events() const noexcept -> std::span<const event_type> { return events_; }
    /// Takes the raised events, oldest first, leaving none.
    [[nodiscard]] auto take_events() -> std::vector<event_type> {
        forget_saved_events();
        return std::exchange(events_, {});
    }
    /// Forgets the raised events.
    void clear_events() noexcept {
        forget_saved_events();
        events_.clear();
    }

    // -- change tracking -----------------------------------------------------------------------

    /// Starts tracking changes from the current state; rollback() returns to it.
    void checkpoint() {
        changes_.clear();
        hold_log_.clear();
        backorder_log_.clear();
        saved_ = saved_state{version_, events_.size(), low_, rule_};
    }
    /// Whether changes are being tracked.
    [[nodiscard]] auto tracking() const noexcept -> bool { return saved_.has_value(); }
    /// The changes made since checkpoint(), oldest first.
    [[nodiscard]] auto changes() const noexcept -> std::span<const change> { return changes_; }
    /// The version at checkpoint() (the one storage holds), or the current one if not tracking.
    [[nodiscard]] auto checkpoint_version() const noexcept -> std::uint64_t {
        return saved_ ? saved_->version : version_;
    }
    /// The hold a hold_placed or hold_removed change placed or removed.
    [[nodiscard]] auto tracked_hold(const change& c) const -> hold_type {
        const auto& t = hold_log_[c.position];
        return hold_of(t.order, t.record);
    }
    /// The backorder a backorder_added or backorder_removed change queued or took off the queue.
    [[nodiscard]] auto tracked_backorder(const change& c) const -> backorder_type {
        const auto& t = backorder_log_[c.position];
        return backorder_of(t.key, t.entry);
    }
    /// Whether the replenishment rule changed since checkpoint().
    [[nodiscard]] auto replenishment_changed() const noexcept -> bool { return saved_ && !(saved_->rule == rule_); }
    /// Keeps the changes made since checkpoint() and stops tracking.
    void accept() noexcept {
        changes_.clear();
        hold_log_.clear();
        backorder_log_.clear();
        saved_.reset();
    }
    /// Undoes every change made since checkpoint(), drops the events raised since, and stops
    /// tracking. Without a checkpoint, does nothing.
    void rollback() {
        if (!saved_) return;
        for (auto c = changes_.rbegin(); c != changes_.rend(); ++c) undo(*c);
        changes_.clear();
        hold_log_.clear();
        backorder_log_.clear();
        version_ = saved_->version;
        events_.resize(saved_->events);
        low_ = saved_->low;
        rule_ = saved_->rule;
        saved_.reset();
        available_ = quantity_type{};
        for (const auto& b : batches_) available_ += b.available();
        dirty_ = true;
    }

private:
    struct saved_state {
        std::uint64_t version;
        std::size_t events;
        bool low;
        replenishment_type rule;
    };

    static constexpr auto is_valid_line_qty(quantity_type q) noexcept -> bool {
        return is_valid_line_quantity<Traits>(q);
    }
    static constexpr auto is_valid_batch_qty(quantity_type q) noexcept -> bool {
        return is_valid_batch_quantity<Traits>(q);
    }

    auto check_line(const line_type& line) const -> result<void> {
        if (!(line.sku == sku_)) return errc::sku_mismatch;
        if (!is_valid_id<Traits>(line.order)) return errc::invalid_identifier;
        if (!is_valid_line_qty(line.qty)) return errc::invalid_quantity;
        return success();
    }

    auto parts_of(const line_record& rec) const -> std::vector<allocation_type> {
        std::vector<allocation_type> out;
        out.reserve(rec.parts.size());
        for (const auto& p : rec.parts) out.push_back({sku_, p.qty, batches_[p.batch].ref()});
        return out;
    }

    void track(change c) {
        if (saved_) changes_.push_back(std::move(c));
    }

    // Raises Allocated for `qty` of `order` on batch i, built in its place in the event list
    // (no temporary event whose strings would be copied, moved and freed).
    void raise_allocated(const order_id_type& order, quantity_type qty, std::uint32_t i) {
        using allocated = events::basic_allocated<Traits>;
        auto& e = *std::get_if<allocated>(&events_.emplace_back(std::in_place_type<allocated>));
        e.order = order;
        e.sku = sku_;
        e.qty = qty;
        e.batch = batches_[i].ref();
    }

    // Events taken or cleared after checkpoint() are gone: a rollback then keeps none of the
    // earlier ones rather than padding the list back to its old length.
    void forget_saved_events() noexcept {
        if (saved_) saved_->events = 0;
    }

    template <class Less>
    auto sorted_by(const Less& less) const -> std::vector<const batch_type*> {
        std::vector<const batch_type*> out;
        out.reserve(batches_.size());
        for (const auto& b : batches_) out.push_back(&b);
        std::stable_sort(out.begin(), out.end(),
                         [&](const batch_type* a, const batch_type* b) { return static_cast<bool>(less(*a, *b)); });
        return out;
    }

    // The batch that takes `line` whole, or none: by the strategy's line preference when it has
    // one (a scan), else through the index.
    auto choose(const line_type& line) -> std::optional<std::size_t> {
        const std::span<const batch_type> all(batches_);
        if constexpr (line_preference<Strategy, batch_type, line_type>) {
            return detail::scan_first(strategy_, all, line.qty, [&](const batch_type& a, const batch_type& b) {
                return strategy_.prefers(a, b, line);
            });
        } else {
            ensure_index();
            return index_.find(strategy_, all, line.qty);
        }
    }

    // Plans `line` split over batches (after choose() found none to take it whole).
    template <class Parts>
    auto plan_split(const line_type& line, Parts& plan) const -> bool {
        const std::span<const batch_type> all(batches_);
        if constexpr (line_preference<Strategy, batch_type, line_type>) {
            return detail::plan_split_by(
                strategy_, all, line.qty,
                [&](const batch_type& a, const batch_type& b) { return strategy_.prefers(a, b, line); }, plan);
        } else {
            return detail::plan_split(index_, strategy_, all, line.qty, plan);
        }
    }

    void ensure_index() {
        if (dirty_) {
            index_.rebuild(strategy_, std::span<const batch_type>(batches_));
            dirty_ = false;
        }
    }
    void refresh(std::uint32_t i) {
        if (!dirty_) index_.update(strategy_, std::span<const batch_type>(batches_), i);
    }

    // Puts `qty` of `order` on batch i.
    void place(std::uint32_t i, const order_id_type& order, quantity_type qty, line_record& rec) {
        batches_[i].add(order, qty);
        available_ -= qty;
        rec.parts.push_back({i, qty});
        if (saved_) {
            auto& c = changes_.emplace_back(change{.what = change::kind::allocated, .batch = i});
            c.order = order;  // one copy of the order id, none when not tracking
            c.qty = qty;
        }
        refresh(i);
    }

    // Removes a whole line from every batch holding part of it.
    void release(typename line_map::iterator it,
                 deallocation_reason reason) {
        const auto order = it->first;
        const auto rec = std::move(it->second);
        lines_.erase(it);
        for (const auto& p : rec.parts) {
            const auto pos = batches_[p.batch].remove(order);
            available_ += p.qty;
            track({.what = change::kind::deallocated,
                   .batch = p.batch,
                   .order = order,
                   .qty = p.qty,
                   .old_qty = rec.qty,
                   .position = static_cast<std::uint32_t>(pos),
                   .context = rec.context});
            refresh(p.batch);
        }
        events_.emplace_back(events::basic_deallocated<Traits>{
            order, sku_, rec.qty, batches_[rec.parts.front().batch].ref(), reason, rec.context});
    }

    void undo(const change& c) {
        using k = typename change::kind;
        switch (c.what) {
            case k::batch_added:
                refs_.erase(batches_.back().ref());
                batches_.pop_back();
                break;
            case k::allocated: {
                batches_[c.batch].remove(c.order);
                const auto it = lines_.find(c.order);
                auto& parts = it->second.parts;
                const auto p = std::find_if(parts.rbegin(), parts.rend(),
                                            [&](const part& x) { return x.batch == c.batch; });
                parts.erase(std::next(p).base());
                it->second.qty -= c.qty;
                if (parts.empty()) lines_.erase(it);
                break;
            }
            case k::deallocated: {
                batches_[c.batch].insert(c.position, c.order, c.qty);
                auto& rec = lines_[c.order];
                rec.qty = c.old_qty;
                rec.context = c.context;
                rec.parts.insert(rec.parts.begin(), part{c.batch, c.qty});
                break;
            }
            case k::quantity_changed:
                batches_[c.batch].set_purchased(c.old_qty);
                break;
            case k::hold_placed: {
                const auto it = holds_.find(c.order);
                if (!it->second.lapsed) batches_[c.batch].unhold(it->second.qty);
                holds_.erase(it);
                break;
            }
            case k::hold_removed: {
                const auto& t = hold_log_[c.position];
                holds_[t.order] = t.record;
                if (t.record.lapsed) {
                    lapsed_.push_back({t.order, t.record.sequence});
                } else {
                    batches_[c.batch].hold(t.record.qty);
                    push_deadline(t.order, t.record);
                }
                break;
            }
            case k::hold_lapsed: {
                auto& h = holds_.find(c.order)->second;
                h.lapsed = false;
                batches_[c.batch].hold(h.qty);
                push_deadline(c.order, h);
                break;
            }
            case k::backorder_added: {
                const auto& t = backorder_log_[c.position];
                backorders_.erase(t.key);
                backorder_index_.erase(t.entry.order);
                break;
            }
            case k::backorder_changed:
                backorders_.find(backorder_index_.find(c.order)->second)->second.qty = c.old_qty;
                break;
            case k::backorder_removed: {
                const auto& t = backorder_log_[c.position];
                backorder_index_[t.entry.order] = t.key;
                backorders_.insert_or_assign(t.key, t.entry);
                break;
            }
        }
    }

    // -- holds and backorders ------------------------------------------------------------------

    // A hold's deadline in the min-heap deadlines_; an entry whose hold is gone, replaced or
    // lapsed is skipped when it comes out.
    struct deadline {
        timestamp at;
        std::uint64_t sequence;
        order_id_type order;
    };
    struct later {
        auto operator()(const deadline& a, const deadline& b) const noexcept -> bool { return a.at > b.at; }
    };
    struct tracked_hold_record {
        order_id_type order;
        hold_record record;
    };
    // Backorders in fill order: higher priority first, then lower sequence first.
    struct backorder_key {
        std::int64_t priority;
        std::uint64_t sequence;
    };
    struct fill_order {
        auto operator()(const backorder_key& a, const backorder_key& b) const noexcept -> bool {
            return a.priority != b.priority ? a.priority > b.priority : a.sequence < b.sequence;
        }
    };
    struct backorder_entry {
        order_id_type order;
        quantity_type qty;
    };
    struct tracked_backorder_record {
        backorder_key key;
        backorder_entry entry;
    };
    using backorder_queue = std::map<backorder_key, backorder_entry, fill_order>;

    [[nodiscard]] static auto backorder_of(const backorder_key& key, const backorder_entry& e) -> backorder_type {
        return {e.order, e.qty, key.priority, key.sequence};
    }

    // An order with a live hold of this SKU is not allocated otherwise; one with a backorder
    // only through allocate_available().
    auto check_not_held(const order_id_type& order) const -> result<void> {
        if (!holds_.empty()) {
            if (const auto* h = find_hold(order); h != nullptr && !h->lapsed) return errc::hold_conflict;
        }
        return success();
    }
    auto check_not_held_or_queued(const order_id_type& order) -> result<void> {
        ALLOCATION_TRYV(check_not_held(order));
        if (!backorders_.empty()) {
            if (backorder_index_.contains(order)) return errc::conflicting_resubmission;
            settle();
        }
        return success();
    }

    void push_deadline(const order_id_type& order, const hold_record& h) {
        deadlines_.push_back({h.expires_at, h.sequence, order});
        std::push_heap(deadlines_.begin(), deadlines_.end(), later{});
    }

    // Places a new hold and keeps the heap of deadlines at most about twice the live holds.
    auto place_hold(const order_id_type& order, quantity_type qty, std::uint32_t i, timestamp expires_at,
                    std::uint32_t lines) -> const hold_record& {
        auto& h = holds_[order];
        h = {qty, i, expires_at, lines, next_sequence_++, false};
        batches_[i].hold(qty);
        available_ -= qty;
        refresh(i);
        if (deadlines_.size() > 2 * holds_.size() + 64) {
            deadlines_.clear();
            for (const auto& [o, r] : holds_) {
                if (!r.lapsed) deadlines_.push_back({r.expires_at, r.sequence, o});
            }
            std::make_heap(deadlines_.begin(), deadlines_.end(), later{});
        } else {
            push_deadline(order, h);
        }
        if (saved_) {
            hold_log_.push_back({order, h});
            track({.what = change::kind::hold_placed,
                   .batch = i,
                   .order = order,
                   .qty = qty,
                   .position = static_cast<std::uint32_t>(hold_log_.size() - 1)});
        }
        return h;
    }

    // Removes a hold; a live one gives its stock back.
    void drop_hold(typename hold_map::iterator it) {
        const auto& h = it->second;
        if (!h.lapsed) {
            batches_[h.batch].unhold(h.qty);
            available_ += h.qty;
            refresh(h.batch);
        }
        if (saved_) {
            hold_log_.push_back({it->first, h});
            track({.what = change::kind::hold_removed,
                   .batch = h.batch,
                   .order = it->first,
                   .qty = h.qty,
                   .position = static_cast<std::uint32_t>(hold_log_.size() - 1)});
        }
        holds_.erase(it);
    }

    // Raises HoldExpired for a hold and removes it.
    void expire(typename hold_map::iterator it) {
        const auto& h = it->second;
        events_.emplace_back(events::basic_hold_expired<Traits>{it->first, sku_, h.qty, batches_[h.batch].ref()});
        drop_hold(it);
    }

    // The holds whose deadline is at or before now_ stop counting against their batches.
    void lapse_due() {
        while (!deadlines_.empty() && deadlines_.front().at <= now_) {
            std::pop_heap(deadlines_.begin(), deadlines_.end(), later{});
            auto d = std::move(deadlines_.back());
            deadlines_.pop_back();
            const auto it = holds_.find(d.order);
            if (it == holds_.end()) continue;
            auto& h = it->second;
            if (h.sequence != d.sequence || h.lapsed) continue;
            h.lapsed = true;
            batches_[h.batch].unhold(h.qty);
            available_ += h.qty;
            refresh(h.batch);
            track({.what = change::kind::hold_lapsed, .batch = h.batch, .order = d.order, .qty = h.qty});
            lapsed_.push_back({std::move(d.order), d.sequence});
        }
        check_low_stock();
    }

    // Lapses live holds of batch i, the earliest deadline first, until it no longer has more
    // allocated and held than purchased (see restore()).
    void lapse_to_fit(std::uint32_t i) {
        std::vector<std::pair<timestamp, order_id_type>> on_batch;
        for (const auto& [order, h] : holds_) {
            if (h.batch == i && !h.lapsed) on_batch.emplace_back(h.expires_at, order);
        }
        std::sort(on_batch.begin(), on_batch.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        for (const auto& [at, order] : on_batch) {
            if (batches_[i].available() >= quantity_type{}) break;
            auto& h = holds_.find(order)->second;
            h.lapsed = true;
            batches_[i].unhold(h.qty);
            available_ += h.qty;
            if (at > now_) now_ = at;
            lapsed_.push_back({order, h.sequence});
        }
    }

    // Releases live holds of batch i, the most recent first, until it no longer has more
    // allocated and held than purchased.
    void release_holds_of(std::uint32_t i) {
        std::vector<std::pair<std::uint64_t, order_id_type>> on_batch;
        for (const auto& [order, h] : holds_) {
            if (h.batch == i && !h.lapsed) on_batch.emplace_back(h.sequence, order);
        }
        std::sort(on_batch.begin(), on_batch.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
        for (const auto& [sequence, order] : on_batch) {
            if (batches_[i].available() >= quantity_type{}) break;
            const auto it = holds_.find(order);
            events_.emplace_back(events::basic_hold_released<Traits>{order, sku_, it->second.qty, batches_[i].ref(),
                                                                     hold_release_reason::batch_shrunk});
            drop_hold(it);
        }
    }

    void queue_backorder(const order_id_type& order, quantity_type qty, std::int64_t priority) {
        const backorder_key key{priority, next_sequence_++};
        backorders_.emplace(key, backorder_entry{order, qty});
        backorder_index_[order] = key;
        if (saved_) {
            backorder_log_.push_back({key, {order, qty}});
            track({.what = change::kind::backorder_added,
                   .batch = 0,
                   .order = order,
                   .qty = qty,
                   .position = static_cast<std::uint32_t>(backorder_log_.size() - 1)});
        }
        events_.emplace_back(events::basic_backordered<Traits>{order, sku_, qty, priority});
    }

    void drop_backorder(typename backorder_queue::iterator it) {
        if (saved_) {
            backorder_log_.push_back({it->first, it->second});
            track({.what = change::kind::backorder_removed,
                   .batch = 0,
                   .order = it->second.order,
                   .qty = it->second.qty,
                   .position = static_cast<std::uint32_t>(backorder_log_.size() - 1)});
        }
        backorder_index_.erase(it->second.order);
        backorders_.erase(it);
    }

    // What the eligible batches have available. O(B).
    [[nodiscard]] auto eligible_capacity() const -> std::int64_t {
        std::int64_t total = 0;
        for (const auto& b : batches_) {
            if (b.available() > quantity_type{} && detail::eligible(strategy_, b)) total += detail::count(b.available());
        }
        return total;
    }

    // Fills backorders from the stock available, when there are both.
    void settle() {
        if (!backorders_.empty() && available_ > quantity_type{}) fill_backorders();
    }

    // Fills backorders in fill order from the eligible stock, each whole in one batch when one
    // can take it, else split in preference order, partly when only part is there.
    void fill_backorders() {
        auto capacity = eligible_capacity();
        bool filled = false;
        while (capacity > 0 && !backorders_.empty()) {
            const auto it = backorders_.begin();
            const auto take = std::min(detail::count(it->second.qty), capacity);
            line_type part_line{it->second.order, sku_, detail::make_quantity<quantity_type>(take)};
            boost::container::small_vector<part, 4> plan;
            if (const auto found = choose(part_line)) {
                plan.push_back({static_cast<std::uint32_t>(*found), part_line.qty});
            } else if (!plan_split(part_line, plan)) {
                break;
            }
            const auto& order = it->second.order;
            auto& rec = lines_[order];
            rec.qty += part_line.qty;
            for (const auto& p : plan) {
                place(p.batch, order, p.qty, rec);
                raise_allocated(order, p.qty, p.batch);
            }
            capacity -= take;
            filled = true;
            if (part_line.qty == it->second.qty) {
                drop_backorder(it);
            } else {
                const auto old = it->second.qty;
                it->second.qty -= part_line.qty;
                track({.what = change::kind::backorder_changed,
                       .batch = 0,
                       .order = order,
                       .qty = it->second.qty,
                       .old_qty = old});
            }
        }
        if (filled) {
            ++version_;
            check_low_stock();
        }
    }

    [[nodiscard]] auto is_low() const noexcept -> bool {
        return rule_.reorder_point && available_ <= *rule_.reorder_point;
    }

    // Raises LowStock once per crossing of the reorder point.
    void check_low_stock() {
        const bool low = is_low();
        if (low && !low_) {
            const auto target = detail::count(rule_.max_level.value_or(*rule_.reorder_point));
            const auto step = rule_.multiple ? detail::count(*rule_.multiple) : std::int64_t{1};
            auto need = std::max<std::int64_t>(target - detail::count(available_), 1);
            need = (need + step - 1) / step * step;
            events_.emplace_back(events::basic_low_stock<Traits>{
                sku_, available_, detail::make_quantity<quantity_type>(need)});
        }
        low_ = low;
    }

    sku_type sku_;
    std::vector<batch_type> batches_;
    std::uint64_t version_ = 0;
    replenishment_type rule_;
    [[no_unique_address]] Strategy strategy_;
    std::unordered_map<batch_ref_type, std::uint32_t, detail::stored_hash<batch_ref_type>> refs_;
    line_map lines_;
    quantity_type available_{};
    bool low_ = false;
    bool dirty_ = true;
    index_t<Strategy, batch_type> index_;
    timestamp now_{};
    std::uint64_t next_sequence_ = 1;
    hold_map holds_;
    std::vector<deadline> deadlines_;                                // min-heap by `at`
    std::vector<std::pair<order_id_type, std::uint64_t>> lapsed_;  // holds to sweep
    backorder_queue backorders_;
    detail::flat_map<order_id_type, backorder_key, detail::id_hash<order_id_type>> backorder_index_;
    std::vector<tracked_hold_record> hold_log_;
    std::vector<tracked_backorder_record> backorder_log_;
    std::vector<event_type> events_;
    std::vector<change> changes_;
    std::optional<saved_state> saved_;
};

}  // namespace allocation

#endif  // ALLOCATION_DOMAIN_PRODUCT_HPP
