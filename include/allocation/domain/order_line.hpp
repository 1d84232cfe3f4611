// allocation — the order line value object: an order id, a SKU and a quantity.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_DOMAIN_ORDER_LINE_HPP
#define ALLOCATION_DOMAIN_ORDER_LINE_HPP

#include <allocation/domain/traits.hpp>
#include <allocation/domain/types.hpp>

namespace allocation {

/// One line of a customer order. An order line is identified by its order id and SKU; an order
/// has several lines, one per SKU.
template <class Traits>
struct basic_order_line {
    typename Traits::order_id_type order{};
    typename Traits::sku_type sku{};
    typename Traits::quantity_type qty{};
    /// The caller's context (line_context_t), for strategies that place lines by it.
    [[no_unique_address]] line_context_t<Traits> context{};
    friend auto operator==(const basic_order_line&, const basic_order_line&) -> bool = default;
};
using order_line = basic_order_line<default_traits>;

}  // namespace allocation

#endif  // ALLOCATION_DOMAIN_ORDER_LINE_HPP
