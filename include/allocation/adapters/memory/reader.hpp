// allocation — the in-memory read model: what the in-memory store's commits made of each
// product, read without holding any product (the product_reader port).
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_MEMORY_READER_HPP
#define ALLOCATION_ADAPTERS_MEMORY_READER_HPP

#include <algorithm>      // find_if, partition_point
#include <cstddef>        // size_t, ptrdiff_t
#include <cstdint>        // uint32_t
#include <mutex>          // unique_lock
#include <optional>       // optional
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
        if (added) {
            for (const auto& b : p.batches()) {
                for (const auto& e : b.allocations()) orders_[e.order].push_back({p.sku(), e.qty, b.ref()});
            }
        } else {
            for (const auto& c : p.changes()) {
                if (c.what == kind::allocated) {
                    orders_[c.order].push_back({p.sku(), c.qty, p.batches()[c.batch].ref()});
                } else if (c.what == kind::deallocated) {
                    remove(c.order, p.sku(), p.batches()[c.batch].ref());
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
        return std::optional<product_state>(it->second.state);
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
    // Looked up and changed on every committed allocation: the open-addressing map the product's
    // line table uses, not a node per order.
    allocation::detail::flat_map<typename traits::order_id_type, std::vector<allocation_type>,
                                 allocation::detail::id_hash<typename traits::order_id_type>>
        orders_;
};

}  // namespace allocation::memory

#endif  // ALLOCATION_ADAPTERS_MEMORY_READER_HPP
