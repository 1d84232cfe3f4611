// allocation — the in-memory allocations read model: order id -> [(SKU, batch reference)].
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_MEMORY_ALLOCATIONS_VIEW_HPP
#define ALLOCATION_ADAPTERS_MEMORY_ALLOCATIONS_VIEW_HPP

#include <algorithm>      // find_if, remove_if
#include <mutex>          // unique_lock
#include <shared_mutex>   // shared_mutex, shared_lock
#include <unordered_map>  // unordered_map
#include <vector>         // vector

#include <allocation/error.hpp>
#include <allocation/ports/allocations_view.hpp>

namespace allocation::memory {

/// The allocations read model in memory; thread-safe. A line's row is added per batch it is
/// allocated to, in allocation order.
template <class Traits = default_traits>
class basic_allocations_view {
public:
    using order_id_type = typename Traits::order_id_type;
    using sku_type = typename Traits::sku_type;
    using batch_ref_type = typename Traits::batch_ref_type;
    using row_type = basic_allocation_row<Traits>;

    auto add(const order_id_type& order, const sku_type& sku, const batch_ref_type& batch) -> result<void> {
        std::unique_lock lock(mutex_);
        auto& rows = rows_[order];
        const auto same = [&](const row_type& r) { return r.sku == sku && r.batch == batch; };
        if (std::find_if(rows.begin(), rows.end(), same) == rows.end()) rows.push_back({sku, batch});
        return success();
    }
    auto remove(const order_id_type& order, const sku_type& sku) -> result<void> {
        std::unique_lock lock(mutex_);
        const auto it = rows_.find(order);
        if (it == rows_.end()) return success();
        auto& rows = it->second;
        rows.erase(std::remove_if(rows.begin(), rows.end(), [&](const row_type& r) { return r.sku == sku; }),
                   rows.end());
        if (rows.empty()) rows_.erase(it);
        return success();
    }
    auto get(const order_id_type& order) const -> result<std::vector<row_type>> {
        std::shared_lock lock(mutex_);
        const auto it = rows_.find(order);
        if (it == rows_.end()) return std::vector<row_type>{};
        return it->second;
    }

private:
    mutable std::shared_mutex mutex_;
    std::unordered_map<order_id_type, std::vector<row_type>> rows_;
};

using allocations_view = basic_allocations_view<>;
static_assert(allocation::allocations_view<allocations_view>);

}  // namespace allocation::memory

#endif  // ALLOCATION_ADAPTERS_MEMORY_ALLOCATIONS_VIEW_HPP
