// allocation — the in-memory read model: what the in-memory store's commits made of each
// product, read without holding any product (the product_reader port).
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_MEMORY_READER_HPP
#define ALLOCATION_ADAPTERS_MEMORY_READER_HPP

#include <algorithm>      // find, find_if, partition_point, sort
#include <cstddef>        // size_t, ptrdiff_t
#include <cstdint>        // uint32_t, uint64_t
#include <map>            // map
#include <mutex>          // unique_lock
#include <optional>       // optional
#include <set>            // set
#include <shared_mutex>   // shared_mutex, shared_lock
#include <unordered_map>  // unordered_map
#include <vector>         // vector

#include <allocation/detail/flat_map.hpp>
#include <allocation/detail/hash.hpp>
#include <allocation/domain/commands.hpp>
#include <allocation/error.hpp>
#include <allocation/ports/product_reader.hpp>
#include <allocation/strategies/strategy.hpp>

namespace allocation::memory {

/// The committed state of the products of a memory store, kept by its commits (while they still
/// hold the products they changed) and read by anyone at any time: readers never wait for a unit
/// of work. Thread-safe.
///
/// A commit costs what it changed: each batch a change names is copied again, in place, and a
/// new batch is put at its place in the preference order (O(B) moves, no sort), when the
/// strategy's preference is stable (stable_batch_preference: the order changes only when a batch
/// is added). Under any other strategy the order may change with whatever `prefers` reads, so
/// a changed product's state is made again whole (O(B log B)). A new product is taken whole.
/// @tparam Product a basic_product.
template <class Product>
class basic_read_model {
    using traits = typename Product::traits_type;
    using sku_type = typename traits::sku_type;
    using product_state = basic_product_state<traits>;
    using allocation_type = basic_line_allocation<traits>;

public:

    /// Takes in a product a commit keeps: a new one (not tracking changes) whole, a held one by
    /// its tracked changes. Unchanged products are skipped.
    void apply(const Product& p) {
        using kind = typename Product::change::kind;
        const bool added = !p.tracking();
        if (!added && p.version() == p.checkpoint_version() && p.changes().empty()) return;
        const std::unique_lock lock(mutex_);
        product_facts* f = nullptr;  // found when a change needs it: most commits have no hold
        const auto facts = [&]() -> product_facts& { return f != nullptr ? *f : *(f = &facts_[p.sku()]); };
        if (added) {
            for (const auto& b : p.batches()) {
                for (const auto& e : b.allocations()) orders_[e.order].push_back({p.sku(), e.qty, b.ref()});
            }
            for (auto& h : live_holds_of(p)) add_hold(facts(), p.sku(), std::move(h));
            if (p.backorder_count() != 0) {
                for (auto& o : p.backorders()) facts().add_backorder(std::move(o));
            }
        } else {
            for (const auto& c : p.changes()) {
                switch (c.what) {
                    case kind::allocated: orders_[c.order].push_back({p.sku(), c.qty, p.batches()[c.batch].ref()}); break;
                    case kind::deallocated: remove(c.order, p.sku(), p.batches()[c.batch].ref()); break;
                    case kind::hold_placed: add_hold(facts(), p.sku(), p.tracked_hold(c)); break;
                    case kind::hold_lapsed: remove_hold(facts(), p.sku(), c.order, std::nullopt); break;
                    case kind::hold_removed: remove_hold(facts(), p.sku(), c.order, p.tracked_hold(c).sequence); break;
                    case kind::backorder_added: facts().add_backorder(p.tracked_backorder(c)); break;
                    case kind::backorder_changed: facts().change_backorder(c.order, c.qty); break;
                    case kind::backorder_removed: facts().remove_backorder(c.order); break;
                    default: break;
                }
            }
        }
        const auto it = products_.find(p.sku());
        if (added || it == products_.end() || !stable_batch_preference<typename Product::strategy_type>) {
            rebuild(p);
        } else {
            update(it->second, p);
        }
    }

    /// The committed state of a product; none when the SKU is unknown.
    auto read_product(const sku_type& key) const -> result<std::optional<product_state>> {
        const std::shared_lock lock(mutex_);
        const auto it = products_.find(key);
        if (it == products_.end()) return std::optional<product_state>{};
        std::optional<product_state> out(it->second.state);
        if (const auto f = facts_.find(key); f != facts_.end()) f->second.fill(*out);
        return out;
    }

    /// The order's live holds (as of the latest time their products were given), in SKU order.
    auto read_holds(const typename traits::order_id_type& order) const -> result<std::vector<basic_held_line<traits>>> {
        const std::shared_lock lock(mutex_);
        std::vector<basic_held_line<traits>> out;
        const auto it = hold_skus_.find(order);
        if (it == hold_skus_.end()) return out;
        for (const auto& s : it->second) {
            const auto& f = facts_.at(s);
            out.push_back({s, f.holds.at(f.hold_sequence.at(order))});
        }
        std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.sku < b.sku; });
        return out;
    }

    /// A committed batch; none when no product has it.
    auto read_batch(const typename traits::batch_ref_type& ref) const -> result<std::optional<basic_batch_state<traits>>> {
        const std::shared_lock lock(mutex_);
        const auto owner = owners_.find(ref);
        if (owner == owners_.end()) return std::optional<basic_batch_state<traits>>{};
        const auto& e = products_.at(owner->second.sku);
        return std::optional<basic_batch_state<traits>>(e.state.batches[e.position[owner->second.batch]]);
    }

    /// Where an order's lines are allocated, in allocation order.
    auto read_allocations(const typename traits::order_id_type& order) const -> result<std::vector<allocation_type>> {
        const std::shared_lock lock(mutex_);
        const auto it = orders_.find(order);
        if (it == orders_.end()) return std::vector<allocation_type>{};
        return it->second;
    }

private:
    // A product's state, and where each of its batches (by index in the product) is in it.
    struct entry {
        product_state state;
        std::vector<std::uint32_t> position;  // batch index -> index in state.batches
        std::vector<std::uint32_t> order;     // index in state.batches -> batch index
    };
    struct batch_owner {
        sku_type sku;
        std::uint32_t batch;  // index in the product
    };

    // A product's live holds (by sequence: placement order) and backorders (in fill order).
    struct product_facts {
        using hold_type = basic_hold<traits>;
        using backorder_type = basic_backorder<traits>;
        struct fill_order {
            auto operator()(const backorder_type& a, const backorder_type& b) const noexcept -> bool {
                return a.priority != b.priority ? a.priority > b.priority : a.sequence < b.sequence;
            }
        };
        std::map<std::uint64_t, hold_type> holds;
        std::unordered_map<typename traits::order_id_type, std::uint64_t> hold_sequence;
        std::set<backorder_type, fill_order> backorders;
        std::unordered_map<typename traits::order_id_type, backorder_type> backorder_of;

        void add_backorder(backorder_type o) {
            backorder_of.insert_or_assign(o.order, o);
            backorders.insert(std::move(o));
        }
        void change_backorder(const typename traits::order_id_type& order, typename traits::quantity_type qty) {
            const auto it = backorder_of.find(order);
            if (it == backorder_of.end()) return;
            backorders.erase(it->second);
            it->second.qty = qty;
            backorders.insert(it->second);
        }
        void remove_backorder(const typename traits::order_id_type& order) {
            const auto it = backorder_of.find(order);
            if (it == backorder_of.end()) return;
            backorders.erase(it->second);
            backorder_of.erase(it);
        }
        void fill(product_state& out) const {
            out.holds.reserve(holds.size());
            for (const auto& [sequence, h] : holds) out.holds.push_back(h);
            out.backorders.assign(backorders.begin(), backorders.end());
        }
    };

    void add_hold(product_facts& f, const sku_type& sku, basic_hold<traits> h) {
        auto& skus = hold_skus_[h.order];
        if (std::find(skus.begin(), skus.end(), sku) == skus.end()) skus.push_back(sku);
        f.hold_sequence.insert_or_assign(h.order, h.sequence);
        f.holds.insert_or_assign(h.sequence, std::move(h));
    }
    // The order's hold leaves the listing: any (lapsed), or the one of `sequence` (removed; one
    // that lapsed before is gone already).
    void remove_hold(product_facts& f, const sku_type& sku, const typename traits::order_id_type& order,
                     std::optional<std::uint64_t> sequence) {
        const auto it = f.hold_sequence.find(order);
        if (it == f.hold_sequence.end() || (sequence && *sequence != it->second)) return;
        f.holds.erase(it->second);
        f.hold_sequence.erase(it);
        const auto skus = hold_skus_.find(order);
        if (skus == hold_skus_.end()) return;
        std::erase(skus->second, sku);
        if (skus->second.empty()) hold_skus_.erase(skus);
    }

    static auto index_of(const Product& p, const typename Product::batch_type* b) -> std::uint32_t {
        return static_cast<std::uint32_t>(b - p.batches().data());
    }

    // The whole state again, in the preference order as it is now.
    void rebuild(const Product& p) {
        auto& e = products_[p.sku()];
        e.state = {p.sku(), p.version(), p.available(), {}};
        const auto order = p.preference_order();
        e.state.batches.reserve(order.size());
        e.order.clear();
        e.position.assign(order.size(), 0);
        for (const auto* b : order) {
            e.position[index_of(p, b)] = static_cast<std::uint32_t>(e.order.size());
            e.order.push_back(index_of(p, b));
            e.state.batches.push_back(batch_state_of(*b));
        }
        for (const auto& b : p.batches()) owners_.insert_or_assign(b.ref(), batch_owner{p.sku(), index_of(p, &b)});
    }

    // The batches the tracked changes name, copied again in place; added batches put at their
    // place in the (stable) preference order.
    void update(entry& e, const Product& p) {
        using kind = typename Product::change::kind;
        const auto batches = p.batches();
        e.state.version = p.version();
        e.state.available = p.available();
        for (const auto& c : p.changes()) {
            if (c.what == kind::batch_added) {
                insert(e, p, c.batch);
            } else if (c.what != kind::backorder_added && c.what != kind::backorder_changed &&
                       c.what != kind::backorder_removed) {
                e.state.batches[e.position[c.batch]] = batch_state_of(batches[c.batch]);
            }
        }
    }

    // Batch i is new: it goes before the first batch it is preferred to (after its equals, which
    // were added before it), as a stable sort by the strategy puts it.
    void insert(entry& e, const Product& p, std::uint32_t i) {
        const auto batches = p.batches();
        const auto& strategy = p.strategy();
        const auto at = std::partition_point(e.order.begin(), e.order.end(), [&](std::uint32_t j) {
            return !static_cast<bool>(strategy.prefers(batches[i], batches[j]));
        });
        const auto pos = static_cast<std::size_t>(at - e.order.begin());
        e.order.insert(at, i);
        e.state.batches.insert(e.state.batches.begin() + static_cast<std::ptrdiff_t>(pos), batch_state_of(batches[i]));
        if (e.position.size() <= i) e.position.resize(i + 1);
        for (std::size_t k = pos; k < e.order.size(); ++k) e.position[e.order[k]] = static_cast<std::uint32_t>(k);
        owners_.insert_or_assign(batches[i].ref(), batch_owner{p.sku(), i});
    }

    void remove(const typename traits::order_id_type& order, const sku_type& sku, const typename traits::batch_ref_type& ref) {
        const auto it = orders_.find(order);
        if (it == orders_.end()) return;
        auto& rows = it->second;
        const auto row =
            std::find_if(rows.begin(), rows.end(), [&](const allocation_type& a) { return a.sku == sku && a.batch == ref; });
        if (row != rows.end()) rows.erase(row);
        if (rows.empty()) orders_.erase(it);
    }

    mutable std::shared_mutex mutex_;
    std::unordered_map<sku_type, entry> products_;
    std::unordered_map<typename traits::batch_ref_type, batch_owner> owners_;
    std::unordered_map<sku_type, product_facts> facts_;
    std::unordered_map<typename traits::order_id_type, std::vector<sku_type>> hold_skus_;  // order -> SKUs it holds
    // Looked up and changed on every committed allocation: the open-addressing map the product's
    // line table uses, not a node per order.
    allocation::detail::flat_map<typename traits::order_id_type, std::vector<allocation_type>,
                                 allocation::detail::id_hash<typename traits::order_id_type>>
        orders_;
};

}  // namespace allocation::memory

#endif  // ALLOCATION_ADAPTERS_MEMORY_READER_HPP
