// allocation — a hold: stock of one batch reserved for an order line until a deadline, before it
// becomes an allocation (a checkout, a payment).
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_DOMAIN_HOLD_HPP
#define ALLOCATION_DOMAIN_HOLD_HPP

#include <cstdint>  // uint32_t, uint64_t

#include <allocation/domain/types.hpp>

namespace allocation {

/// A hold of an order line (order id + SKU) as a product keeps and stores it: `qty` units of
/// batch `batch` reserved for `order` until `expires_at`. While it lives (before `expires_at`)
/// the held units count against what the batch has available; from `expires_at` on they are
/// available to everyone, whether or not the hold was swept.
template <class Traits>
struct basic_hold {
    typename Traits::order_id_type order{};
    typename Traits::quantity_type qty{};
    typename Traits::batch_ref_type batch{};
    timestamp expires_at{};
    /// How many lines (SKUs) the order's whole hold has, this one included: holding the same
    /// lines again is answered with the live hold, other lines are refused.
    std::uint32_t lines = 1;
    /// The product's placement order of its holds and backorders (higher = more recent).
    std::uint64_t sequence = 0;
    friend auto operator==(const basic_hold&, const basic_hold&) -> bool = default;
};
using hold = basic_hold<default_traits>;

/// Why held stock was given back before its deadline.
enum class hold_release_reason {
    requested,        ///< a ReleaseHold command (the checkout was abandoned)
    partly_confirmed, ///< the rest of a hold confirmed in part
    batch_shrunk,     ///< its batch's quantity was reduced below what it had allocated and held
};

}  // namespace allocation

#endif  // ALLOCATION_DOMAIN_HOLD_HPP
