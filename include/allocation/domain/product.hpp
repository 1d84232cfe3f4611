// allocation — the product aggregate: every batch of one SKU, the lines allocated to them, the
// version number and the events it raised.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_DOMAIN_PRODUCT_HPP
#define ALLOCATION_DOMAIN_PRODUCT_HPP

#include <algorithm>      // stable_sort, find_if
#include <cstddef>        // size_t
#include <cstdint>        // uint32_t, uint64_t
#include <optional>       // optional
#include <span>           // span
#include <unordered_map>  // unordered_map
#include <utility>        // move, exchange
#include <variant>        // get_if, in_place_type
#include <vector>         // vector

#include <boost/container/small_vector.hpp>

#include <allocation/detail/flat_map.hpp>
#include <allocation/detail/hash.hpp>
#include <allocation/domain/batch.hpp>
#include <allocation/domain/commands.hpp>
#include <allocation/domain/events.hpp>
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

/// The aggregate root for one SKU. Every change goes through it, so it keeps the rules: no
/// batch ever has more allocated than purchased, an order line is allocated at most once, and
/// every state change increments the version (for optimistic concurrency in storage adapters)
/// and raises events.
///
/// A product is not thread-safe; a unit of work gives one writer at a time access to it.
/// Changes can be tracked from a checkpoint(), then undone with rollback() or kept with
/// accept(); storage adapters read the tracked changes() to write only what changed.
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

    /// One tracked change, in the order it was made.
    struct change {
        enum class kind : std::uint8_t {
            batch_added,       ///< batches()[batch] was added
            allocated,         ///< `qty` of `order` was allocated to batches()[batch]
            deallocated,       ///< `qty` of `order` left batches()[batch] (from `position`)
            quantity_changed,  ///< batches()[batch]'s purchased quantity was `old_qty`
        };
        kind what;
        std::uint32_t batch;
        order_id_type order{};
        quantity_type qty{};
        quantity_type old_qty{};        ///< quantity_changed: the previous purchased quantity;
                                        ///< deallocated: the whole line's quantity
        std::uint32_t position = 0;     ///< deallocated: where the entry was in the batch
        [[no_unique_address]] line_context_t<Traits> context{};  ///< deallocated: the line's context
    };

    /// An empty product.
    explicit basic_product(sku_type code, replenishment_type rule = {}, Strategy strategy = {})
        : basic_product(std::move(code), {}, 0, std::move(rule), std::move(strategy)) {}

    /// A product loaded from storage: its batches in the order they were added, each with its
    /// allocations oldest first, and its stored version.
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
            const auto& b = batches_[i];
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
        check_low_stock();
        return ref;
    }

    /// Sets a batch's purchased quantity. When less than is allocated remains, whole lines are
    /// deallocated from it, the most recently allocated first, each raising a Deallocated event
    /// with reason batch_shrunk (the message bus reallocates them).
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
        while (b.available() < quantity_type{}) {
            const auto it = lines_.find(b.allocations().back().order);
            release(it, deallocation_reason::batch_shrunk);
        }
        refresh(i);
        ++version_;
        check_low_stock();
        return success();
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
    /// Whether the replenishment rule changed since checkpoint().
    [[nodiscard]] auto replenishment_changed() const noexcept -> bool { return saved_ && !(saved_->rule == rule_); }
    /// Keeps the changes made since checkpoint() and stops tracking.
    void accept() noexcept {
        changes_.clear();
        saved_.reset();
    }
    /// Undoes every change made since checkpoint(), drops the events raised since, and stops
    /// tracking. Without a checkpoint, does nothing.
    void rollback() {
        if (!saved_) return;
        for (auto c = changes_.rbegin(); c != changes_.rend(); ++c) undo(*c);
        changes_.clear();
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
                const auto p = std::find_if(parts.begin(), parts.end(),
                                            [&](const part& x) { return x.batch == c.batch; });
                parts.erase(p);
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
    std::vector<event_type> events_;
    std::vector<change> changes_;
    std::optional<saved_state> saved_;
};

}  // namespace allocation

#endif  // ALLOCATION_DOMAIN_PRODUCT_HPP
