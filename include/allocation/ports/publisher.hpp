// allocation — the EventPublisher port: telling other systems what happened.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_PORTS_PUBLISHER_HPP
#define ALLOCATION_PORTS_PUBLISHER_HPP

#include <concepts>     // same_as
#include <string_view>  // string_view

#include <allocation/error.hpp>

namespace allocation {

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
