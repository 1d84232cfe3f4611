// allocation — domain events: what happened to a product, for observers to react to.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_DOMAIN_EVENTS_HPP
#define ALLOCATION_DOMAIN_EVENTS_HPP

#include <optional>     // optional
#include <string_view>  // string_view
#include <variant>      // variant

#include <cstdint>      // int64_t

#include <allocation/domain/hold.hpp>
#include <allocation/domain/traits.hpp>
#include <allocation/domain/types.hpp>

namespace allocation {

/// Why an order line lost its allocation.
enum class deallocation_reason {
    requested,      ///< a Deallocate command (the customer or the ERP cancelled the line)
    batch_shrunk,   ///< its batch's quantity was reduced below what it had allocated
};

namespace events {

/// A batch was added to a product.
template <class Traits>
struct basic_batch_created {
    typename Traits::batch_ref_type ref{};
    typename Traits::sku_type sku{};
    typename Traits::quantity_type qty{};
    std::optional<typename Traits::date_type> eta{};
    friend auto operator==(const basic_batch_created&, const basic_batch_created&) -> bool = default;
};

/// An order line was allocated to a batch (one event per batch when a line is split).
template <class Traits>
struct basic_allocated {
    typename Traits::order_id_type order{};
    typename Traits::sku_type sku{};
    typename Traits::quantity_type qty{};
    typename Traits::batch_ref_type batch{};
    friend auto operator==(const basic_allocated&, const basic_allocated&) -> bool = default;
};

/// An order line lost its allocation. `batch` is the batch it was taken from (the first part's
/// batch for a split line); `qty` is the whole line's quantity.
template <class Traits>
struct basic_deallocated {
    typename Traits::order_id_type order{};
    typename Traits::sku_type sku{};
    typename Traits::quantity_type qty{};
    typename Traits::batch_ref_type batch{};
    deallocation_reason reason = deallocation_reason::requested;
    /// The caller's context the line was allocated with (line_context_t), so that a line
    /// reallocated after a shrink is placed as its caller asked. Kept in memory only: a product
    /// reloaded from a durable store (SQLite, PostgreSQL) and an event read back from an outbox
    /// have line_context_t{} instead.
    [[no_unique_address]] line_context_t<Traits> context{};
    friend auto operator==(const basic_deallocated&, const basic_deallocated&) -> bool = default;
};

/// No batch could take an order line; nothing was allocated.
template <class Traits>
struct basic_out_of_stock {
    typename Traits::order_id_type order{};
    typename Traits::sku_type sku{};
    typename Traits::quantity_type qty{};
    friend auto operator==(const basic_out_of_stock&, const basic_out_of_stock&) -> bool = default;
};

/// A product's available quantity fell to or below its reorder point: purchasing should order
/// `reorder_qty` units. Raised once per crossing.
template <class Traits>
struct basic_low_stock {
    typename Traits::sku_type sku{};
    typename Traits::quantity_type available{};
    typename Traits::quantity_type reorder_qty{};
    friend auto operator==(const basic_low_stock&, const basic_low_stock&) -> bool = default;
};

/// A batch's purchased quantity was changed.
template <class Traits>
struct basic_batch_quantity_changed {
    typename Traits::batch_ref_type ref{};
    typename Traits::sku_type sku{};
    typename Traits::quantity_type old_qty{};
    typename Traits::quantity_type new_qty{};
    friend auto operator==(const basic_batch_quantity_changed&, const basic_batch_quantity_changed&)
        -> bool = default;
};

/// Stock of a batch was held for an order line until `expires_at`.
template <class Traits>
struct basic_hold_placed {
    typename Traits::order_id_type order{};
    typename Traits::sku_type sku{};
    typename Traits::quantity_type qty{};
    typename Traits::batch_ref_type batch{};
    timestamp expires_at{};
    friend auto operator==(const basic_hold_placed&, const basic_hold_placed&) -> bool = default;
};

/// Held stock was given back before its deadline (`qty` of it: the rest of a hold confirmed in
/// part, or the whole hold).
template <class Traits>
struct basic_hold_released {
    typename Traits::order_id_type order{};
    typename Traits::sku_type sku{};
    typename Traits::quantity_type qty{};
    typename Traits::batch_ref_type batch{};
    hold_release_reason reason = hold_release_reason::requested;
    friend auto operator==(const basic_hold_released&, const basic_hold_released&) -> bool = default;
};

/// A hold reached its deadline unconfirmed (its stock was available to everyone from then on;
/// this event tells when the sweep saw it).
template <class Traits>
struct basic_hold_expired {
    typename Traits::order_id_type order{};
    typename Traits::sku_type sku{};
    typename Traits::quantity_type qty{};
    typename Traits::batch_ref_type batch{};
    friend auto operator==(const basic_hold_expired&, const basic_hold_expired&) -> bool = default;
};

/// `qty` of an order line was queued, to be allocated as stock arrives.
template <class Traits>
struct basic_backordered {
    typename Traits::order_id_type order{};
    typename Traits::sku_type sku{};
    typename Traits::quantity_type qty{};
    std::int64_t priority = 0;
    friend auto operator==(const basic_backordered&, const basic_backordered&) -> bool = default;
};

/// A backorder was cancelled with `qty` still owed.
template <class Traits>
struct basic_backorder_cancelled {
    typename Traits::order_id_type order{};
    typename Traits::sku_type sku{};
    typename Traits::quantity_type qty{};
    friend auto operator==(const basic_backorder_cancelled&, const basic_backorder_cancelled&) -> bool = default;
};

/// Any event a product raises.
template <class Traits>
using basic_event = std::variant<basic_batch_created<Traits>, basic_allocated<Traits>,
                                 basic_deallocated<Traits>, basic_out_of_stock<Traits>,
                                 basic_low_stock<Traits>, basic_batch_quantity_changed<Traits>,
                                 basic_hold_placed<Traits>, basic_hold_released<Traits>,
                                 basic_hold_expired<Traits>, basic_backordered<Traits>,
                                 basic_backorder_cancelled<Traits>>;

using batch_created = basic_batch_created<default_traits>;
using allocated = basic_allocated<default_traits>;
using deallocated = basic_deallocated<default_traits>;
using out_of_stock = basic_out_of_stock<default_traits>;
using low_stock = basic_low_stock<default_traits>;
using batch_quantity_changed = basic_batch_quantity_changed<default_traits>;
using hold_placed = basic_hold_placed<default_traits>;
using hold_released = basic_hold_released<default_traits>;
using hold_expired = basic_hold_expired<default_traits>;
using backordered = basic_backordered<default_traits>;
using backorder_cancelled = basic_backorder_cancelled<default_traits>;
using event = basic_event<default_traits>;

}  // namespace events
}  // namespace allocation

#endif  // ALLOCATION_DOMAIN_EVENTS_HPP
