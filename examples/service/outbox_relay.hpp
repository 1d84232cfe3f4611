// allocation-service — the outbox relay: a thread that hands the events a storage adapter's
// outbox committed to Redis, and marks them sent only once Redis accepted them.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_SERVICE_OUTBOX_RELAY_HPP
#define ALLOCATION_SERVICE_OUTBOX_RELAY_HPP

#include <atomic>              // atomic
#include <chrono>              // milliseconds, steady_clock
#include <condition_variable>  // condition_variable_any
#include <cstddef>             // size_t
#include <mutex>               // mutex, unique_lock
#include <optional>            // optional
#include <span>                // span
#include <stop_token>          // stop_token
#include <string>              // string
#include <thread>              // jthread
#include <type_traits>         // remove_cvref_t
#include <utility>             // move, pair
#include <variant>             // visit
#include <vector>              // vector

#include <allocation/adapters/common/relay.hpp>
#include <allocation/domain/events.hpp>
#include <allocation/error.hpp>
#include <allocation/ports/publisher.hpp>
#include <allocation/try.hpp>

#include "config.hpp"
#include "json_api.hpp"
#include "log.hpp"
#include "redis.hpp"

namespace allocation::service {

/// The Redis message of an event: `line_allocated`, `line_deallocated`, `out_of_stock` and
/// `low_stock` with their JSON (json_api.hpp); none for the events that are not published.
template <class Event>
[[nodiscard]] auto redis_message(const Event& event) -> std::optional<redis_sender::message> {
    return std::visit(
        [](const auto& e) -> std::optional<redis_sender::message> {
            using E = std::remove_cvref_t<decltype(e)>;
            if constexpr (requires { event_message(e); }) {
                return redis_sender::message{std::string(events::channel_v<E>), event_message(e)};
            } else {
                return std::nullopt;
            }
        },
        event);
}

/// What one relay step did.
struct relay_step {
    std::size_t marked = 0;       ///< events marked sent (published, or never published)
    bool redis_failed = false;    ///< Redis did not accept an event: the rest waits
};

/// Publishes up to `max` unsent events of `outbox`, oldest first, with the library's relay
/// (the outbox's take_unsent: in one transaction that skips rows another relay holds, on
/// PostgreSQL), pipelined to Redis, and marks sent those Redis accepted and those that are not
/// published at all, stopping at the first Redis failure. Errors: the outbox's storage errors.
template <class Outbox>
auto relay_batch(Outbox& outbox, redis_sender& sender, std::size_t max) -> result<relay_step> {
    relay_step step;
    const auto send = [&](std::span<const typename Outbox::record> rows) {
        std::vector<redis_sender::message> messages;
        std::vector<std::size_t> row_of;  // the row of each message
        for (std::size_t i = 0; i < rows.size(); ++i) {
            if (auto m = redis_message(rows[i].event)) {
                messages.push_back(std::move(*m));
                row_of.push_back(i);
            }
        }
        const auto accepted = sender.publish(messages);
        step.redis_failed = accepted < messages.size();
        // Every row before the first message Redis did not accept is done.
        return allocation::detail::relay_outcome{step.redis_failed ? row_of[accepted] : rows.size(), {}};
    };
    ALLOCATION_TRY(marked, allocation::detail::relay_with(outbox, send, max));
    step.marked = marked;
    return step;
}

/// A thread moving events from an outbox to Redis: it polls the outbox, publishes what is unsent
/// and marks it sent once Redis accepted it. While Redis is unreachable the events wait in the
/// outbox (in the database, also across restarts) and go out in order once it is back
/// (at-least-once: an event whose mark was lost is published again).
template <class Outbox>
class outbox_relay {
public:
    /// Starts relaying from `outbox` (which must outlive this) to `endpoint`; an empty outbox
    /// is polled every `poll`.
    outbox_relay(Outbox& outbox, redis_endpoint endpoint, std::chrono::milliseconds poll = std::chrono::milliseconds(20))
        : outbox_(&outbox), sender_(std::move(endpoint)), poll_(poll), thread_([this](std::stop_token s) { run(s); }) {}

    outbox_relay(const outbox_relay&) = delete;
    auto operator=(const outbox_relay&) -> outbox_relay& = delete;
    ~outbox_relay() { stop(std::chrono::milliseconds(0)); }

    /// Publishes what is unsent for up to `drain` (while Redis takes it), then stops. Idempotent.
    void stop(std::chrono::milliseconds drain) {
        if (!thread_.joinable()) return;
        drain_until_ = std::chrono::steady_clock::now() + drain;
        thread_.request_stop();
        thread_.join();
    }

    /// The number of events marked sent so far.
    [[nodiscard]] auto relayed() const noexcept -> std::size_t { return relayed_.load(); }

    /// How far behind the relay is: zero when its last pass emptied the outbox, else the time
    /// since one did (at least the age of the oldest event waiting).
    [[nodiscard]] auto lag() const noexcept -> std::chrono::steady_clock::duration {
        if (drained_.load()) return {};
        return std::chrono::steady_clock::now() - drained_at_.load();
    }

    /// Whether the relay's connection to Redis was up after its last pass.
    [[nodiscard]] auto connected() const noexcept -> bool { return connected_.load(); }

private:
    static constexpr std::size_t batch_size = 512;

    void sleep(std::stop_token stop, std::chrono::milliseconds d) {
        std::unique_lock lock(mutex_);
        wake_.wait_for(lock, stop, d, [] { return false; });
    }

    void run(std::stop_token stop) {
        detail::backoff delay;
        bool storage_reported = false;
        for (;;) {
            const bool stopping = stop.stop_requested();
            if (stopping && std::chrono::steady_clock::now() >= drain_until_.load()) return;
            auto step = relay_batch(*outbox_, sender_, batch_size);
            connected_ = sender_.connected();
            const bool drained = step && !step.value().redis_failed && step.value().marked < batch_size;
            if (drained) drained_at_ = std::chrono::steady_clock::now();
            drained_ = drained;
            if (!step) {
                if (!storage_reported) log("relay: cannot read the outbox: {}; retrying", step.error().message());
                storage_reported = true;
                if (stopping) return;
                sleep(stop, delay.next());
                continue;
            }
            storage_reported = false;
            relayed_.fetch_add(step.value().marked, std::memory_order_relaxed);
            if (step.value().redis_failed) {
                if (stopping) return;
                sleep(stop, delay.next());
                continue;
            }
            delay.reset();
            if (step.value().marked < batch_size) {
                if (stopping) return;
                sleep(stop, poll_);
            }
        }
    }

    Outbox* outbox_;
    redis_sender sender_;
    std::chrono::milliseconds poll_;
    std::atomic<std::chrono::steady_clock::time_point> drain_until_{};
    std::atomic<std::size_t> relayed_{0};
    std::atomic<bool> drained_{false};
    std::atomic<std::chrono::steady_clock::time_point> drained_at_{std::chrono::steady_clock::now()};
    std::atomic<bool> connected_{false};
    std::mutex mutex_;
    std::condition_variable_any wake_;
    std::jthread thread_;  // last: started once everything above exists
};

}  // namespace allocation::service

#endif  // ALLOCATION_SERVICE_OUTBOX_RELAY_HPP
