// allocation — the outbox relay: events an outbox committed handed to an EventPublisher, and
// marked sent once taken (every backend's outbox, and the example service's Redis relay).
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_COMMON_RELAY_HPP
#define ALLOCATION_ADAPTERS_COMMON_RELAY_HPP

#include <cstddef>       // size_t
#include <span>          // span
#include <system_error>  // error_code
#include <type_traits>   // remove_cvref_t
#include <variant>       // visit

#include <allocation/adapters/common/outbox_row.hpp>
#include <allocation/error.hpp>
#include <allocation/ports/publisher.hpp>
#include <allocation/try.hpp>

namespace allocation::detail {

/// What a sender did with a run of outbox records: the first `taken` are done (published, or
/// not published at all), and `failure` says why it stopped before the rest (none when it did
/// not).
struct relay_outcome {
    std::size_t taken = 0;
    std::error_code failure{};
};

/// Hands each record's event to `publisher` (`publish(channel, event)`, see event_publisher) in
/// order; an event type the publisher does not model counts as taken. Stops at the first
/// failure.
template <class Publisher, class Record>
auto publish_records(Publisher& publisher, std::span<const Record> records) -> relay_outcome {
    relay_outcome out;
    for (const auto& r : records) {
        const auto published = std::visit(
            [&](const auto& e) -> result<void> {
                using E = std::remove_cvref_t<decltype(e)>;
                if constexpr (event_publisher<Publisher, E>) {
                    return publisher.publish(events::channel_v<E>, e);
                } else {
                    return success();
                }
            },
            r.event);
        if (!published) {
            out.failure = published.error();
            return out;
        }
        ++out.taken;
    }
    return out;
}

/// Relays up to `max` unsent events of `outbox` through `send(std::span<const record>) ->
/// relay_outcome` (oldest first) and marks the taken ones sent, with the outbox's
/// `take_unsent(max, send)`. Returns the number marked sent, or the sender's failure after
/// marking the ones before it.
template <class Outbox, class Send>
auto relay_with(Outbox& outbox, Send&& send, std::size_t max) -> result<std::size_t> {
    relay_outcome outcome;
    ALLOCATION_TRY(marked, outbox.take_unsent(max, [&](std::span<const typename Outbox::record> records) {
                       outcome = send(records);
                       return outcome.taken;
                   }));
    if (outcome.failure) return outcome.failure;
    return marked;
}

/// The base of every backend's outbox (`Outbox`, which gives `take_unsent(max, take)`): the type of
/// its records and relay(), which hands its unsent events to an EventPublisher.
template <class Outbox, class Traits>
class relaying_outbox {
public:
    /// One stored event.
    using record = basic_outbox_record<Traits>;

    /// Hands up to `max` unsent events, oldest first, to `publisher` (`publish(channel, event)`,
    /// see event_publisher), and marks each one sent that it took or does not take (an event
    /// type the publisher does not model is skipped). Stops at the first failure, returning it
    /// after marking the ones before. Returns the number of events marked sent.
    template <class Publisher>
    auto relay(Publisher& publisher, std::size_t max = 1000) -> result<std::size_t> {
        return relay_with(
            static_cast<Outbox&>(*this), [&](std::span<const record> rows) { return publish_records(publisher, rows); },
            max);
    }

protected:
    relaying_outbox() = default;
};

}  // namespace allocation::detail

#endif  // ALLOCATION_ADAPTERS_COMMON_RELAY_HPP
