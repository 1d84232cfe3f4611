// allocation — the in-memory read model: what the in-memory store's commits made of each
// product, read without holding any product (the product_reader port).
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_MEMORY_READER_HPP
#define ALLOCATION_ADAPTERS_MEMORY_READER_HPP

#include <algorithm>      // find_if
#include <mutex>          // unique_lock
#include <optional>       // optional
#include <shared_mutex>   // shared_mutex, shared_lock
#include <unordered_map>  // unordered_map
#include <vector>         // vector

#include <allocation/domain/commands.hpp>
#include <allocation/error.hpp>
#include <allocation/ports/product_reader.hpp>

namespace allocation::memory {

/// The committed state of the products of a memory store, kept by its commits (while they still
/// hold the products they changed) and read by anyone at any time: readers never wait for a unit
/// of work. Thread-safe.
/// @tparam Product a basic_product.
template <class Product>
class basic_read_model {
public:
    using traits_type = typename Product::traits_type;
    using sku_type = typename Product::sku_type;
    using batch_ref_type = typename Product::batch_ref_type;
    using order_id_type = typename Product::order_id_type;
    using product_state = basic_product_state<traits_type>;
    using batch_state = basic_batch_state<traits_type>;
    using allocation_type = basic_line_allocation<traits_type>;

    /// Takes in a product a commit keeps: a new one (not tracking changes) whole, a held one by
    /// its tracked changes. Unchanged products are skipped.
    void apply(const Product& p) {
        using kind = typename Product::change::kind;
        const bool added = !p.tracking();
        if (!added && p.version() == p.checkpoint_version()) return;
        auto state = state_of(p);
        const std::unique_lock lock(mutex_);
        if (added) {
            for (const auto& b : p.batches()) {
                for (const auto& e : b.allocations()) orders_[e.order].push_back({p.sku(), e.qty, b.ref()});
            }
        } else {
            for (const auto& c : p.changes()) {
                const auto& ref = p.batches()[c.batch].ref();
                if (c.what == kind::allocated) {
                    orders_[c.order].push_back({p.sku(), c.qty, ref});
                } else if (c.what == kind::deallocated) {
                    remove(c.order, p.sku(), ref);
                }
            }
        }
        for (const auto& b : state.batches) owners_.insert_or_assign(b.ref, p.sku());
        products_.insert_or_assign(p.sku(), std::move(state));
    }

    /// The committed state of a product; none when the SKU is unknown.
    auto read_product(const sku_type& key) const -> result<std::optional<product_state>> {
        const std::shared_lock lock(mutex_);
        const auto it = products_.find(key);
        if (it == products_.end()) return std::optional<product_state>{};
        return std::optional<product_state>(it->second);
    }

    /// A committed batch; none when no product has it.
    auto read_batch(const batch_ref_type& ref) const -> result<std::optional<batch_state>> {
        const std::shared_lock lock(mutex_);
        const auto owner = owners_.find(ref);
        if (owner == owners_.end()) return std::optional<batch_state>{};
        const auto& batches = products_.at(owner->second).batches;
        const auto it = std::find_if(batches.begin(), batches.end(), [&](const batch_state& b) { return b.ref == ref; });
        if (it == batches.end()) return std::optional<batch_state>{};
        return std::optional<batch_state>(*it);
    }

    /// Where an order's lines are allocated, in allocation order.
    auto read_allocations(const order_id_type& order) const -> result<std::vector<allocation_type>> {
        const std::shared_lock lock(mutex_);
        const auto it = orders_.find(order);
        if (it == orders_.end()) return std::vector<allocation_type>{};
        return it->second;
    }

private:
    void remove(const order_id_type& order, const sku_type& sku, const batch_ref_type& ref) {
        const auto it = orders_.find(order);
        if (it == orders_.end()) return;
        auto& rows = it->second;
        const auto row =
            std::find_if(rows.begin(), rows.end(), [&](const allocation_type& a) { return a.sku == sku && a.batch == ref; });
        if (row != rows.end()) rows.erase(row);
        if (rows.empty()) orders_.erase(it);
    }

    mutable std::shared_mutex mutex_;
    std::unordered_map<sku_type, product_state> products_;
    std::unordered_map<batch_ref_type, sku_type> owners_;
    std::unordered_map<order_id_type, std::vector<allocation_type>> orders_;
};

}  // namespace allocation::memory

#endif  // ALLOCATION_ADAPTERS_MEMORY_READER_HPP
