// allocation — bootstrap: a message bus with the application's adapters wired to its events.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_BUS_BOOTSTRAP_HPP
#define ALLOCATION_BUS_BOOTSTRAP_HPP

#include <functional>   // reference_wrapper
#include <memory>       // shared_ptr, make_shared
#include <mutex>        // mutex, lock_guard
#include <string>       // string
#include <type_traits>  // decay_t
#include <utility>      // forward, move

#include <fmt/format.h>

#include <allocation/bus/message_bus.hpp>
#include <allocation/domain/commands.hpp>
#include <allocation/domain/events.hpp>
#include <allocation/ports/allocations_view.hpp>
#include <allocation/ports/notifications.hpp>
#include <allocation/ports/product_reader.hpp>
#include <allocation/ports/publisher.hpp>
#include <allocation/ports/unit_of_work.hpp>
#include <allocation/try.hpp>

namespace allocation {

/// Settings of bootstrap().
struct bootstrap_options {
    std::string purchasing = "purchasing";  ///< where OutOfStock and LowStock notices are sent
    retry_policy retry{};
    logger log = detail::log_to_stderr;
};

/// A bootstrap() argument: every product the bus creates gets a copy of `strategy` (see
/// basic_message_bus::set_strategy).
template <class Strategy>
struct strategy_choice {
    Strategy strategy;
};
template <class Strategy>
[[nodiscard]] auto with_strategy(Strategy strategy) -> strategy_choice<Strategy> {
    return {std::move(strategy)};
}

/// A bootstrap() argument: the products the bus creates are made by `make(sku, default_rule)`
/// (see basic_message_bus::set_product_factory).
template <class F>
struct product_factory_choice {
    F make;
};
template <class F>
[[nodiscard]] auto with_product_factory(F make) -> product_factory_choice<F> {
    return {std::move(make)};
}

/// A bootstrap() argument: the bus asks `clock` for the time of holds (see
/// basic_message_bus::set_clock); system_clock otherwise.
template <class Clock>
struct clock_choice {
    Clock clock;
};
template <allocation::tells_time Clock>
[[nodiscard]] auto with_clock(Clock clock) -> clock_choice<Clock> {
    return {std::move(clock)};
}

namespace detail {

template <class T>
inline constexpr bool is_product_choice_v = false;
template <class S>
inline constexpr bool is_product_choice_v<strategy_choice<S>> = true;
template <class F>
inline constexpr bool is_product_choice_v<product_factory_choice<F>> = true;
template <class C>
inline constexpr bool is_product_choice_v<clock_choice<C>> = true;

// Reallocates each line a batch gave back when it shrank (mission rule 6), through the bus, so
// with its retries, with the caller's context the line was allocated with (the event's, kept in
// memory: a line of a product reloaded from a durable store has the default context); a line no
// batch can take is out of stock, an answer rather than a failure.
template <class Bus>
void reallocate_shrunk_lines(Bus& bus) {
    using traits = typename Bus::traits_type;
    using deallocated = events::basic_deallocated<traits>;
    auto* sender = &bus.sender();
    bus.template on<deallocated>([sender](const deallocated& e) -> result<void> {
        if (e.reason != deallocation_reason::batch_shrunk) return success();
        auto r = sender->handle(
            commands::basic_allocate<traits>{.order = e.order, .sku = e.sku, .qty = e.qty, .context = e.context});
        if (!r && r.error() != errc::out_of_stock) return r.error();
        return success();
    });
}

template <class T>
struct unwrapped {
    using type = T;
    static auto get(T& t) noexcept -> T& { return t; }
};
template <class T>
struct unwrapped<std::reference_wrapper<T>> {
    using type = T;
    static auto get(std::reference_wrapper<T>& t) noexcept -> T& { return t.get(); }
};

template <class D, class Traits>
inline constexpr bool is_dependency_v =
    notifications<D> || allocations_view<D, Traits> || event_publisher<D, events::basic_allocated<Traits>>;

// Rewrites the read model's rows of one order line from what is committed. Observers of
// different commits may run in any order on several threads; writing what the store holds (not
// applying the event as a delta), one refresh at a time, makes the read model converge whatever
// that order: a commit comes before its observers, so the refresh that runs last reads the
// newest state. A store that models product_reader is read without holding anything, under
// `serial`; another one is read in a unit of work holding the product, rolled back.
template <class Store, class View, class Order, class Sku>
auto refresh_view(Store& store, View& view, std::mutex& serial, const Order& order, const Sku& sku) -> result<void> {
    using traits = typename product_t<unit_of_work_t<Store>>::traits_type;
    if constexpr (product_reader<Store, traits>) {
        const std::lock_guard lock(serial);
        ALLOCATION_TRY(rows, store.read_allocations(order));
        ALLOCATION_TRYV(view.remove(order, sku));
        for (const auto& row : rows) {
            if (row.sku == sku) {
                ALLOCATION_TRYV(view.add(order, sku, row.batch));
            }
        }
        return success();
    } else {
        auto uow = store.begin();
        ALLOCATION_TRY(product, uow.products().get(sku));
        ALLOCATION_TRYV(view.remove(order, sku));
        if (product != nullptr) {
            if (const auto* line = product->find_line(order)) {
                for (const auto& part : line->parts) {
                    ALLOCATION_TRYV(view.add(order, sku, product->batches()[part.batch].ref()));
                }
            }
        }
        uow.rollback();
        return success();
    }
}

template <class Bus, class Event, class Holder>
void publish_if_supported(Bus& bus, const std::shared_ptr<Holder>& holder) {
    using target = typename unwrapped<Holder>::type;
    if constexpr (event_publisher<target, Event>) {
        bus.template on<Event>([holder](const Event& e) -> result<void> {
            return unwrapped<Holder>::get(*holder).publish(events::channel_v<Event>, e);
        });
    }
}

template <class Bus, class Dependency>
void wire_adapter(Bus& bus, const bootstrap_options& options, Dependency&& dependency) {
    using traits = typename Bus::traits_type;
    using holder_type = std::decay_t<Dependency>;
    using target = typename unwrapped<holder_type>::type;
    static_assert(is_dependency_v<target, traits>,
                  "a bootstrap dependency must model notifications, allocations_view or event_publisher "
                  "(of events::allocated); pass adapters you keep with std::ref");
    auto holder = std::make_shared<holder_type>(std::forward<Dependency>(dependency));
    if constexpr (notifications<target>) {
        bus.template on<events::basic_out_of_stock<traits>>(
            [holder, to = options.purchasing](const events::basic_out_of_stock<traits>& e) -> result<void> {
                return unwrapped<holder_type>::get(*holder).send(
                    to, fmt::format("Out of stock for {}: order {} wanted {}", e.sku, e.order, e.qty));
            });
        bus.template on<events::basic_low_stock<traits>>(
            [holder, to = options.purchasing](const events::basic_low_stock<traits>& e) -> result<void> {
                return unwrapped<holder_type>::get(*holder).send(
                    to, fmt::format("Low stock for {}: {} available, please order {}", e.sku, e.available,
                                    e.reorder_qty));
            });
    }
    if constexpr (allocations_view<target, traits>) {
        auto* store = &bus.store();
        auto serial = std::make_shared<std::mutex>();
        bus.template on<events::basic_allocated<traits>>([holder, store, serial](const events::basic_allocated<traits>& e) {
            return refresh_view(*store, unwrapped<holder_type>::get(*holder), *serial, e.order, e.sku);
        });
        bus.template on<events::basic_deallocated<traits>>(
            [holder, store, serial](const events::basic_deallocated<traits>& e) {
                return refresh_view(*store, unwrapped<holder_type>::get(*holder), *serial, e.order, e.sku);
            });
    }
    publish_if_supported<Bus, events::basic_allocated<traits>>(bus, holder);
    publish_if_supported<Bus, events::basic_deallocated<traits>>(bus, holder);
    publish_if_supported<Bus, events::basic_out_of_stock<traits>>(bus, holder);
    publish_if_supported<Bus, events::basic_low_stock<traits>>(bus, holder);
    publish_if_supported<Bus, events::basic_hold_placed<traits>>(bus, holder);
    publish_if_supported<Bus, events::basic_hold_released<traits>>(bus, holder);
    publish_if_supported<Bus, events::basic_hold_expired<traits>>(bus, holder);
    publish_if_supported<Bus, events::basic_backordered<traits>>(bus, holder);
    publish_if_supported<Bus, events::basic_backorder_cancelled<traits>>(bus, holder);
}

// Sets how the bus makes products (with_strategy, with_product_factory) and its clock
// (with_clock).
template <class Bus, class Choice>
void choose_products(Bus& bus, Choice&& choice) {
    if constexpr (requires { choice.clock; }) {
        bus.set_clock(std::forward<Choice>(choice).clock);
    } else if constexpr (requires { choice.strategy; }) {
        static_assert(std::is_convertible_v<decltype(choice.strategy), typename Bus::strategy_type>,
                      "with_strategy(s): s must be the strategy type of the store's products");
        bus.set_strategy(std::forward<Choice>(choice).strategy);
    } else {
        bus.set_product_factory(std::forward<Choice>(choice).make);
    }
}

template <class Bus, class Dependency>
void wire(Bus& bus, const bootstrap_options& options, Dependency&& dependency) {
    if constexpr (is_product_choice_v<std::decay_t<Dependency>>) {
        choose_products(bus, std::forward<Dependency>(dependency));
    } else {
        wire_adapter(bus, options, std::forward<Dependency>(dependency));
    }
}

}  // namespace detail

/// Builds the message bus of an application: commands run in units of work of `store`, and each
/// dependency is connected to the events it serves, found by the concepts it models:
/// - notifications: sent a notice to `options.purchasing` on OutOfStock and LowStock;
/// - allocations_view: kept up to date from Allocated and Deallocated (each rewrites the line's
///   rows from what is committed, read through the store's product_reader when it has one, so
///   concurrent writers cannot leave it stale);
/// - event_publisher: given Allocated, and Deallocated, OutOfStock, LowStock, HoldPlaced,
///   HoldReleased, HoldExpired, Backordered, BackorderCancelled where it takes them.
/// - with_strategy(s) / with_product_factory(f): how the products the bus creates are made;
/// - with_clock(c): the clock of holds (system_clock otherwise);
/// and always the observer that reallocates the lines of a shrunk batch (after the others).
/// Dependencies are moved into the bus; pass the ones you keep (a view you query) with std::ref.
/// Returns a basic_message_bus<Store>. (The return type is deduced so that clang reports an
/// unsatisfied unit_of_work_factory instead of failing on basic_message_bus<Store> first.)
template <unit_of_work_factory Store, class... Dependencies>
auto bootstrap(Store& store, bootstrap_options options, Dependencies&&... dependencies) {
    basic_message_bus<Store> bus(store, options.retry, options.log);
    (detail::wire(bus, options, std::forward<Dependencies>(dependencies)), ...);
    detail::reallocate_shrunk_lines(bus);
    return bus;
}

/// A message bus over `store` with default options and no adapters.
template <unit_of_work_factory Store>
auto bootstrap(Store& store) {
    return bootstrap(store, bootstrap_options{});
}

}  // namespace allocation

#endif  // ALLOCATION_BUS_BOOTSTRAP_HPP
