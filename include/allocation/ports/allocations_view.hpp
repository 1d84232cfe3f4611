// allocation — the allocations read model port: order id -> [(SKU, batch reference)].
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_PORTS_ALLOCATIONS_VIEW_HPP
#define ALLOCATION_PORTS_ALLOCATIONS_VIEW_HPP

#include <concepts>  // same_as
#include <vector>    // vector

#include <allocation/domain/types.hpp>
#include <allocation/error.hpp>

namespace allocation {

/// One row of the allocations read model.
template <class Traits>
struct basic_allocation_row {
    typename Traits::sku_type sku{};
    typename Traits::batch_ref_type batch{};
    friend auto operator==(const basic_allocation_row&, const basic_allocation_row&) -> bool = default;
};
using allocation_row = basic_allocation_row<default_traits>;

/// A read model of where each order's lines are allocated, kept up to date by the bus from
/// Allocated and Deallocated events: `add` a line's batch, `remove` a line, `get` an order's
/// rows (empty when the order has none).
template <class V, class Traits = default_traits>
concept allocations_view = requires(V& v, const typename Traits::order_id_type& order,
                                    const typename Traits::sku_type& sku,
                                    const typename Traits::batch_ref_type& batch) {
    { v.add(order, sku, batch) } -> std::same_as<result<void>>;
    { v.remove(order, sku) } -> std::same_as<result<void>>;
    { v.get(order) } -> std::same_as<result<std::vector<basic_allocation_row<Traits>>>>;
};

}  // namespace allocation

#endif  // ALLOCATION_PORTS_ALLOCATIONS_VIEW_HPP
