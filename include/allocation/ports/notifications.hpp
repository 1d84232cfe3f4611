// allocation — the Notifications port: telling people (purchasing) that something needs them.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_PORTS_NOTIFICATIONS_HPP
#define ALLOCATION_PORTS_NOTIFICATIONS_HPP

#include <concepts>     // same_as
#include <string_view>  // string_view

#include <allocation/error.hpp>

namespace allocation {

/// `n.send(destination, message)` delivers a message for people (an e-mail, a chat post...).
template <class N>
concept notifications = requires(N& n, std::string_view destination, std::string_view message) {
    { n.send(destination, message) } -> std::same_as<result<void>>;
};

/// Notifications that go nowhere.
struct no_notifications {
    auto send(std::string_view, std::string_view) -> result<void> { return success(); }
};
static_assert(notifications<no_notifications>);

}  // namespace allocation

#endif  // ALLOCATION_PORTS_NOTIFICATIONS_HPP
