// allocation — the EventPublisher port: telling other systems what happened.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_PORTS_PUBLISHER_HPP
#define ALLOCATION_PORTS_PUBLISHER_HPP

#include <concepts>     // same_as
#include <string_view>  // string_view
#include <type_traits>  // remove_cvref_t
#include <variant>      // visit

#include <allocation/domain/events.hpp>
#include <allocation/error.hpp>

namespace allocation {
namespace events {

/// The channel an event is published on (a Redis channel of the example service, a topic of a
/// broker): part of the publisher port, not of the domain.
template <class Event>
inline constexpr std::string_view channel_v = {};
template <class T>
inline constexpr std::string_view channel_v<basic_batch_created<T>> = "batch_created";
template <class T>
inline constexpr std::string_view channel_v<basic_allocated<T>> = "line_allocated";
template <class T>
inline constexpr std::string_view channel_v<basic_deallocated<T>> = "line_deallocated";
template <class T>
inline constexpr std::string_view channel_v<basic_out_of_stock<T>> = "out_of_stock";
template <class T>
inline constexpr std::string_view channel_v<basic_low_stock<T>> = "low_stock";
template <class T>
inline constexpr std::string_view channel_v<basic_batch_quantity_changed<T>> = "batch_quantity_changed";
template <class T>
inline constexpr std::string_view channel_v<basic_hold_placed<T>> = "hold_placed";
template <class T>
inline constexpr std::string_view channel_v<basic_hold_released<T>> = "hold_released";
template <class T>
inline constexpr std::string_view channel_v<basic_hold_expired<T>> = "hold_expired";
template <class T>
inline constexpr std::string_view channel_v<basic_backordered<T>> = "backordered";
template <class T>
inline constexpr std::string_view channel_v<basic_backorder_cancelled<T>> = "backorder_cancelled";

/// The channel of any event held in a basic_event variant.
template <class Traits>
[[nodiscard]] auto channel(const basic_event<Traits>& e) noexcept -> std::string_view {
    return std::visit([](const auto& ev) { return channel_v<std::remove_cvref_t<decltype(ev)>>; }, e);
}

}  // namespace events

/// `p.publish(channel, event)` hands an event to other systems (a message broker) on a channel
/// (events::channel_v<Event>). A publisher may model this for some event types only.
template <class P, class Event>
concept event_publisher = requires(P& p, std::string_view channel, const Event& e) {
    { p.publish(channel, e) } -> std::same_as<result<void>>;
};

/// A publisher that publishes nothing.
struct no_publisher {};

}  // namespace allocation

#endif  // ALLOCATION_PORTS_PUBLISHER_HPP
