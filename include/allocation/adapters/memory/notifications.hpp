// allocation — in-memory notifications and publisher that record what they were given.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_MEMORY_NOTIFICATIONS_HPP
#define ALLOCATION_ADAPTERS_MEMORY_NOTIFICATIONS_HPP

#include <mutex>        // mutex, lock_guard
#include <string>       // string
#include <string_view>  // string_view
#include <utility>      // pair
#include <vector>       // vector

#include <allocation/domain/events.hpp>
#include <allocation/error.hpp>
#include <allocation/ports/notifications.hpp>
#include <allocation/ports/publisher.hpp>

namespace allocation::memory {

/// Notifications kept in memory, for tests and examples; thread-safe.
class notifications {
public:
    struct message {
        std::string destination;
        std::string text;
    };
    auto send(std::string_view destination, std::string_view text) -> result<void> {
        const std::lock_guard lock(mutex_);
        sent_.push_back({std::string(destination), std::string(text)});
        return success();
    }
    /// Everything sent so far.
    [[nodiscard]] auto sent() const -> std::vector<message> {
        const std::lock_guard lock(mutex_);
        return sent_;
    }

private:
    mutable std::mutex mutex_;
    std::vector<message> sent_;
};
static_assert(allocation::notifications<notifications>);

/// A publisher that keeps every event it is given, with its channel; thread-safe.
template <class Traits = default_traits>
class basic_publisher {
public:
    using event_type = events::basic_event<Traits>;
    struct message {
        std::string channel;
        event_type event;
    };
    template <class Event>
        requires std::is_constructible_v<event_type, const Event&>
    auto publish(std::string_view channel, const Event& e) -> result<void> {
        const std::lock_guard lock(mutex_);
        published_.push_back({std::string(channel), event_type{e}});
        return success();
    }
    /// Everything published so far.
    [[nodiscard]] auto published() const -> std::vector<message> {
        const std::lock_guard lock(mutex_);
        return published_;
    }

private:
    mutable std::mutex mutex_;
    std::vector<message> published_;
};
using publisher = basic_publisher<>;
static_assert(allocation::event_publisher<publisher, events::allocated>);

}  // namespace allocation::memory

#endif  // ALLOCATION_ADAPTERS_MEMORY_NOTIFICATIONS_HPP
