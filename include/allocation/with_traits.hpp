// allocation — with_traits<Traits>: every type of the library for one traits type, by the name the
// default traits give it, so that code on its own traits names no basic_X<Traits>.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_WITH_TRAITS_HPP
#define ALLOCATION_WITH_TRAITS_HPP

#include <allocation/adapters/memory/allocations_view.hpp>
#include <allocation/adapters/memory/notifications.hpp>
#include <allocation/adapters/memory/repository.hpp>
#include <allocation/adapters/memory/unit_of_work.hpp>
#include <allocation/bus/message_bus.hpp>
#include <allocation/domain/batch.hpp>
#include <allocation/domain/commands.hpp>
#include <allocation/domain/events.hpp>
#include <allocation/domain/order_line.hpp>
#include <allocation/domain/product.hpp>
#include <allocation/domain/traits.hpp>
#include <allocation/ports/allocations_view.hpp>
#include <allocation/strategies/warehouse_first.hpp>

namespace allocation {

/// The library's types for `Traits`, named as for the default traits:
/// `with_traits<erp_traits>::product`, `::commands::allocate`, `::events::allocated`, `::bus`.
/// @tparam Traits models domain_traits.
/// @tparam Strategy the strategy of `product` (and of the store and bus built on it).
template <class Traits, class Strategy = warehouse_first>
struct with_traits {
    static_assert(detail::check_traits<Traits>(), "Traits must model domain_traits (domain/traits.hpp)");

    using traits_type = Traits;
    using order_id = typename Traits::order_id_type;
    using sku = typename Traits::sku_type;
    using batch_ref = typename Traits::batch_ref_type;
    using quantity = typename Traits::quantity_type;
    using date = typename Traits::date_type;
    using line_context = line_context_t<Traits>;

    using batch = basic_batch<Traits>;
    using product = basic_product<Strategy, Traits>;
    /// The product of another strategy.
    template <class OtherStrategy>
    using product_with = basic_product<OtherStrategy, Traits>;
    using order_line = basic_order_line<Traits>;
    using replenishment = basic_replenishment<Traits>;
    using line_allocation = basic_line_allocation<Traits>;
    using allocation_row = basic_allocation_row<Traits>;
    using hold = basic_hold<Traits>;
    using backorder = basic_backorder<Traits>;
    using product_facts = basic_product_facts<Traits>;
    using held_order = basic_held_order<Traits>;

    struct commands {
        using create_batch = allocation::commands::basic_create_batch<Traits>;
        using allocate = allocation::commands::basic_allocate<Traits>;
        using allocate_split = allocation::commands::basic_allocate_split<Traits>;
        using deallocate = allocation::commands::basic_deallocate<Traits>;
        using change_batch_quantity = allocation::commands::basic_change_batch_quantity<Traits>;
        using order_item = allocation::commands::basic_order_item<Traits>;
        using allocate_order = allocation::commands::basic_allocate_order<Traits>;
        using set_replenishment = allocation::commands::basic_set_replenishment<Traits>;
        using hold = allocation::commands::basic_hold<Traits>;
        using confirm_item = allocation::commands::basic_confirm_item<Traits>;
        using confirm_hold = allocation::commands::basic_confirm_hold<Traits>;
        using release_hold = allocation::commands::basic_release_hold<Traits>;
        using expire_holds = allocation::commands::basic_expire_holds<Traits>;
        using cancel_backorder = allocation::commands::basic_cancel_backorder<Traits>;
    };

    struct events {
        using batch_created = allocation::events::basic_batch_created<Traits>;
        using allocated = allocation::events::basic_allocated<Traits>;
        using deallocated = allocation::events::basic_deallocated<Traits>;
        using out_of_stock = allocation::events::basic_out_of_stock<Traits>;
        using low_stock = allocation::events::basic_low_stock<Traits>;
        using batch_quantity_changed = allocation::events::basic_batch_quantity_changed<Traits>;
        using hold_placed = allocation::events::basic_hold_placed<Traits>;
        using hold_released = allocation::events::basic_hold_released<Traits>;
        using hold_expired = allocation::events::basic_hold_expired<Traits>;
        using backordered = allocation::events::basic_backordered<Traits>;
        using backorder_cancelled = allocation::events::basic_backorder_cancelled<Traits>;
        using event = allocation::events::basic_event<Traits>;
    };

    /// The in-memory store of `product`, its bus, read model and publisher.
    using memory_store = memory::basic_store<product>;
    using bus = basic_message_bus<memory_store>;
    using memory_allocations_view = memory::basic_allocations_view<Traits>;
    using memory_publisher = memory::basic_publisher<Traits>;
    /// The bus over another store of `product` (SQLite, PostgreSQL, an own adapter).
    template <class Store>
    using bus_for = basic_message_bus<Store>;
};

}  // namespace allocation

#endif  // ALLOCATION_WITH_TRAITS_HPP
