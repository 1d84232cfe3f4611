// allocation — the umbrella header: the domain, the ports, the message bus and the in-memory
// adapters (everything that needs only Boost and fmt).
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ALLOCATION_HPP
#define ALLOCATION_ALLOCATION_HPP

#include <allocation/adapters/memory/allocations_view.hpp>
#include <allocation/adapters/memory/notifications.hpp>
#include <allocation/adapters/memory/repository.hpp>
#include <allocation/adapters/memory/unit_of_work.hpp>
#include <allocation/bus/bootstrap.hpp>
#include <allocation/bus/handlers.hpp>
#include <allocation/bus/message_bus.hpp>
#include <allocation/domain/backorder.hpp>
#include <allocation/domain/batch.hpp>
#include <allocation/domain/commands.hpp>
#include <allocation/domain/events.hpp>
#include <allocation/domain/hold.hpp>
#include <allocation/domain/order_line.hpp>
#include <allocation/domain/product.hpp>
#include <allocation/domain/traits.hpp>
#include <allocation/domain/validation.hpp>
#include <allocation/domain/types.hpp>
#include <allocation/error.hpp>
#include <allocation/fwd.hpp>
#include <allocation/ports/allocations_view.hpp>
#include <allocation/ports/clock.hpp>
#include <allocation/ports/notifications.hpp>
#include <allocation/ports/product_factory.hpp>
#include <allocation/ports/publisher.hpp>
#include <allocation/ports/repository.hpp>
#include <allocation/ports/unit_of_work.hpp>
#include <allocation/strategies/strategy.hpp>
#include <allocation/strategies/warehouse_first.hpp>
#include <allocation/try.hpp>
#include <allocation/version.hpp>
#include <allocation/with_traits.hpp>

#endif  // ALLOCATION_ALLOCATION_HPP
