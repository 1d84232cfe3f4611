// allocation — a backorder: the part of an order line that could not be allocated, queued until
// stock arrives, and the order policies that make them.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_DOMAIN_BACKORDER_HPP
#define ALLOCATION_DOMAIN_BACKORDER_HPP

#include <cstdint>  // int64_t, uint64_t

#include <allocation/domain/types.hpp>

namespace allocation {

/// What AllocateOrder does with a line that cannot be allocated whole.
enum class order_policy {
    all_or_nothing,  ///< every line whole, or nothing of the order
    partial,         ///< each line gets what is available, split over batches where needed
    backorder,       ///< as partial, and the rest of each line is queued as a backorder
};

/// A queued order line as a product keeps and stores it: `qty` units still owed to `order`.
/// Backorders are filled as stock becomes available, higher `priority` first, then lower
/// `sequence` (earlier) first, partly when only part is there.
template <class Traits>
struct basic_backorder {
    typename Traits::order_id_type order{};
    typename Traits::quantity_type qty{};
    std::int64_t priority = 0;
    /// The product's placement order of its holds and backorders (higher = more recent).
    std::uint64_t sequence = 0;
    friend auto operator==(const basic_backorder&, const basic_backorder&) -> bool = default;
};
using backorder = basic_backorder<default_traits>;

}  // namespace allocation

#endif  // ALLOCATION_DOMAIN_BACKORDER_HPP
