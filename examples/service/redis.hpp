// allocation-service — Redis with hiredis: a publisher that queues messages and reconnects,
// and a subscriber thread that reconnects with backoff when Redis restarts.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_SERVICE_REDIS_HPP
#define ALLOCATION_SERVICE_REDIS_HPP

#include <poll.h>  // poll

#include <algorithm>           // min
#include <atomic>              // atomic
#include <cerrno>              // errno
#include <chrono>              // milliseconds, steady_clock
#include <condition_variable>  // condition_variable_any
#include <cstddef>             // size_t
#include <deque>               // deque
#include <exception>           // exception
#include <functional>          // function
#include <memory>              // unique_ptr
#include <mutex>               // mutex, unique_lock
#include <stop_token>          // stop_token
#include <string>              // string
#include <string_view>         // string_view
#include <thread>              // jthread
#include <utility>             // move, pair
#include <vector>              // vector

#include <hiredis/hiredis.h>

#include "config.hpp"
#include "log.hpp"

namespace allocation::service {

namespace detail {

struct redis_context_deleter {
    void operator()(redisContext* c) const noexcept { redisFree(c); }
};
using redis_context = std::unique_ptr<redisContext, redis_context_deleter>;

struct redis_reply_deleter {
    void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};
using redis_reply = std::unique_ptr<redisReply, redis_reply_deleter>;

[[nodiscard]] inline auto to_timeval(std::chrono::milliseconds d) noexcept -> timeval {
    timeval tv{};
    tv.tv_sec = static_cast<decltype(tv.tv_sec)>(d.count() / 1000);
    tv.tv_usec = static_cast<decltype(tv.tv_usec)>((d.count() % 1000) * 1000);
    return tv;
}

/// Runs one command; the reply, or null with `error` set.
template <class... Args>
[[nodiscard]] auto redis_command(redisContext* c, std::string& error, const char* format, Args... args) -> redis_reply {
    redis_reply reply(static_cast<redisReply*>(redisCommand(c, format, args...)));
    if (!reply) {
        error = c->errstr[0] != '\0' ? c->errstr : "connection lost";
    } else if (reply->type == REDIS_REPLY_ERROR) {
        error = std::string(reply->str, reply->len);
        reply.reset();
    }
    return reply;
}

/// Connects, authenticates and selects the database; null with `error` set on failure.
[[nodiscard]] inline auto redis_connect(const redis_endpoint& ep, std::string& error,
                                        std::chrono::milliseconds timeout = std::chrono::seconds(2)) -> redis_context {
    redis_context c(redisConnectWithTimeout(ep.host.c_str(), ep.port, to_timeval(timeout)));
    if (!c) {
        error = "out of memory";
        return nullptr;
    }
    if (c->err != 0) {
        error = c->errstr;
        return nullptr;
    }
    if (redisSetTimeout(c.get(), to_timeval(timeout)) != REDIS_OK) {
        error = c->errstr;
        return nullptr;
    }
    if (!ep.password.empty() && !redis_command(c.get(), error, "AUTH %b", ep.password.data(), ep.password.size())) {
        return nullptr;
    }
    if (ep.db != 0 && !redis_command(c.get(), error, "SELECT %d", ep.db)) return nullptr;
    return c;
}

/// Retry delays: 50 ms doubling to 5 s.
class backoff {
public:
    [[nodiscard]] auto next() noexcept -> std::chrono::milliseconds {
        const auto d = delay_;
        delay_ = std::min(delay_ * 2, std::chrono::milliseconds(5000));
        return d;
    }
    void reset() noexcept { delay_ = std::chrono::milliseconds(50); }

private:
    std::chrono::milliseconds delay_{50};
};

[[nodiscard]] inline auto describe(const redis_endpoint& ep) -> std::string {
    return fmt::format("redis://{}:{}", ep.host, ep.port);
}

}  // namespace detail

/// Publishes messages on Redis channels from its own thread, so callers never wait for Redis.
/// Messages wait in a bounded queue while Redis is unreachable and are sent, in order, once it
/// is back (at least once: a message whose reply was lost is sent again). Thread-safe.
class redis_publisher {
public:
    explicit redis_publisher(redis_endpoint endpoint, std::size_t capacity = 1'000'000)
        : endpoint_(std::move(endpoint)), capacity_(capacity), thread_([this](std::stop_token stop) { run(stop); }) {}

    redis_publisher(const redis_publisher&) = delete;
    auto operator=(const redis_publisher&) -> redis_publisher& = delete;

    /// Sends what is queued for up to one second, then stops.
    ~redis_publisher() { stop(std::chrono::seconds(1)); }

    /// Queues `message` for `channel`; false (and the message dropped) when the queue is full.
    auto publish(std::string channel, std::string message) -> bool {
        {
            const std::lock_guard lock(mutex_);
            if (queue_.size() >= capacity_) {
                if (dropped_++ % 10'000 == 0) log("redis: publish queue full, dropping messages");
                return false;
            }
            queue_.emplace_back(std::move(channel), std::move(message));
        }
        wake_.notify_all();
        return true;
    }

    /// Waits until every queued message was sent; false after `timeout`.
    auto flush(std::chrono::milliseconds timeout) -> bool {
        std::unique_lock lock(mutex_);
        return idle_.wait_for(lock, timeout, [&] { return queue_.empty(); });
    }

    /// Sends what is queued for up to `drain`, then stops the thread. Idempotent.
    void stop(std::chrono::milliseconds drain) {
        if (!thread_.joinable()) return;
        (void)flush(drain);
        thread_.request_stop();
        wake_.notify_all();
        thread_.join();
    }

    [[nodiscard]] auto connected() const noexcept -> bool { return connected_.load(); }
    [[nodiscard]] auto pending() -> std::size_t {
        const std::lock_guard lock(mutex_);
        return queue_.size();
    }

private:
    void run(std::stop_token stop) {
        detail::redis_context ctx;
        detail::backoff delay;
        bool reported_down = false;
        constexpr std::size_t batch_size = 256;
        std::vector<std::pair<std::string, std::string>> batch;
        while (!stop.stop_requested()) {
            {
                std::unique_lock lock(mutex_);
                wake_.wait(lock, stop, [&] { return !queue_.empty(); });
                if (stop.stop_requested()) return;
                batch.assign(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(std::min(batch_size, queue_.size())));
            }
            if (!ctx) {
                std::string error;
                ctx = detail::redis_connect(endpoint_, error);
                if (!ctx) {
                    if (!reported_down) log("redis: publisher cannot reach {}: {}; retrying", detail::describe(endpoint_), error);
                    reported_down = true;
                    std::unique_lock lock(mutex_);
                    wake_.wait_for(lock, stop, delay.next(), [] { return false; });
                    continue;
                }
                log("redis: publisher connected to {}", detail::describe(endpoint_));
                reported_down = false;
                connected_ = true;
                delay.reset();
            }
            // Pipelined: every PUBLISH of the batch, then every reply.
            for (const auto& [channel, message] : batch) {
                redisAppendCommand(ctx.get(), "PUBLISH %b %b", channel.data(), channel.size(), message.data(), message.size());
            }
            std::size_t sent = 0;
            for (; sent < batch.size(); ++sent) {
                void* raw = nullptr;
                if (redisGetReply(ctx.get(), &raw) != REDIS_OK) break;
                freeReplyObject(raw);
            }
            if (sent < batch.size()) {
                log("redis: publisher lost {}: {}; reconnecting", detail::describe(endpoint_), ctx->errstr);
                ctx.reset();
                connected_ = false;
            }
            {
                const std::lock_guard lock(mutex_);
                queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(sent));
                if (queue_.empty()) idle_.notify_all();
            }
        }
    }

    redis_endpoint endpoint_;
    std::size_t capacity_;
    std::mutex mutex_;
    std::condition_variable_any wake_;
    std::condition_variable_any idle_;
    std::deque<std::pair<std::string, std::string>> queue_;  // only run() pops
    std::size_t dropped_ = 0;
    std::atomic<bool> connected_{false};
    std::jthread thread_;  // last: started once everything above exists
};

/// Publishes messages on one Redis connection, synchronously, for the outbox relay: a message
/// counts as sent only once Redis answered its PUBLISH. Connects on demand and again after a
/// failure. Not thread-safe: one relay thread uses it.
class redis_sender {
public:
    using message = std::pair<std::string, std::string>;  ///< channel, payload

    explicit redis_sender(redis_endpoint endpoint) : endpoint_(std::move(endpoint)) {}

    /// Sends `messages` in order, pipelined; returns how many of them, from the first, Redis
    /// accepted (fewer than all when it could not be reached or the connection was lost).
    auto publish(const std::vector<message>& messages) -> std::size_t {
        if (messages.empty()) return 0;
        if (!ctx_) {
            std::string error;
            ctx_ = detail::redis_connect(endpoint_, error);
            if (!ctx_) {
                if (!reported_down_) log("redis: publisher cannot reach {}: {}; retrying", detail::describe(endpoint_), error);
                reported_down_ = true;
                return 0;
            }
            log("redis: publisher connected to {}", detail::describe(endpoint_));
            reported_down_ = false;
        }
        for (const auto& [channel, payload] : messages) {
            redisAppendCommand(ctx_.get(), "PUBLISH %b %b", channel.data(), channel.size(), payload.data(), payload.size());
        }
        std::size_t accepted = 0;
        bool lost = false;
        for (std::size_t i = 0; i < messages.size(); ++i) {
            void* raw = nullptr;
            if (redisGetReply(ctx_.get(), &raw) != REDIS_OK) {
                lost = true;
                break;
            }
            const detail::redis_reply reply(static_cast<redisReply*>(raw));
            // Each reply is read to keep the pipeline in step; only an unbroken prefix counts.
            if (reply && reply->type == REDIS_REPLY_INTEGER && accepted == i) ++accepted;
        }
        if (lost) {
            log("redis: publisher lost {}: {}; reconnecting", detail::describe(endpoint_), ctx_->errstr);
            ctx_.reset();
        }
        return accepted;
    }

    [[nodiscard]] auto connected() const noexcept -> bool { return static_cast<bool>(ctx_); }

private:
    redis_endpoint endpoint_;
    detail::redis_context ctx_;
    bool reported_down_ = false;
};

/// Receives the messages of Redis channels on its own thread and hands each to `handler`
/// (channel, payload). Reconnects and subscribes again, with backoff, when the connection is
/// lost; messages published while it is disconnected are not received (Redis pub/sub).
class redis_subscriber {
public:
    using handler = std::function<void(std::string_view channel, std::string_view payload)>;

    redis_subscriber(redis_endpoint endpoint, std::vector<std::string> channels, handler on_message)
        : endpoint_(std::move(endpoint)),
          channels_(std::move(channels)),
          on_message_(std::move(on_message)),
          thread_([this](std::stop_token stop) { run(stop); }) {}

    redis_subscriber(const redis_subscriber&) = delete;
    auto operator=(const redis_subscriber&) -> redis_subscriber& = delete;
    ~redis_subscriber() { stop(); }

    /// Stops the thread; a message being handled is finished first. Idempotent.
    void stop() {
        if (!thread_.joinable()) return;
        thread_.request_stop();
        thread_.join();
    }

    /// Waits until subscribed to every channel; false after `timeout`.
    auto wait_subscribed(std::chrono::milliseconds timeout) -> bool {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, timeout, [&] { return subscribed_; });
    }

    [[nodiscard]] auto subscribed() -> bool {
        const std::lock_guard lock(mutex_);
        return subscribed_;
    }

private:
    void set_subscribed(bool value) {
        {
            const std::lock_guard lock(mutex_);
            subscribed_ = value;
        }
        changed_.notify_all();
    }

    void sleep(std::stop_token stop, std::chrono::milliseconds d) {
        std::unique_lock lock(mutex_);
        changed_.wait_for(lock, stop, d, [] { return false; });
    }

    void dispatch(const redisReply& reply) {
        // ["message", channel, payload]; subscribe confirmations are ["subscribe", channel, n].
        if (reply.type != REDIS_REPLY_ARRAY || reply.elements != 3) return;
        const auto* kind = reply.element[0];
        if (kind->type != REDIS_REPLY_STRING || std::string_view(kind->str, kind->len) != "message") return;
        const std::string_view channel(reply.element[1]->str, reply.element[1]->len);
        const std::string_view payload(reply.element[2]->str, reply.element[2]->len);
        try {
            on_message_(channel, payload);
        } catch (const std::exception& e) {
            log("redis: handling a message on {} failed: {}", channel, e.what());
        }
    }

    void run(std::stop_token stop) {
        detail::backoff delay;
        bool reported_down = false;
        while (!stop.stop_requested()) {
            std::string error;
            detail::redis_context ctx = detail::redis_connect(endpoint_, error);
            bool ok = static_cast<bool>(ctx);
            for (std::size_t i = 0; ok && i < channels_.size(); ++i) {
                ok = static_cast<bool>(detail::redis_command(ctx.get(), error, "SUBSCRIBE %b", channels_[i].data(), channels_[i].size()));
            }
            if (!ok) {
                if (!reported_down) log("redis: subscriber cannot reach {}: {}; retrying", detail::describe(endpoint_), error);
                reported_down = true;
                sleep(stop, delay.next());
                continue;
            }
            log("redis: subscribed to {} on {}", fmt::join(channels_, ", "), detail::describe(endpoint_));
            reported_down = false;
            delay.reset();
            set_subscribed(true);
            while (!stop.stop_requested()) {
                void* raw = nullptr;
                if (redisGetReplyFromReader(ctx.get(), &raw) != REDIS_OK) break;
                if (raw != nullptr) {
                    const detail::redis_reply reply(static_cast<redisReply*>(raw));
                    dispatch(*reply);
                    continue;
                }
                pollfd pfd{ctx->fd, POLLIN, 0};
                const int ready = ::poll(&pfd, 1, 100);
                if (ready < 0 && errno != EINTR) break;
                if (ready <= 0) continue;
                if (redisBufferRead(ctx.get()) != REDIS_OK) break;
            }
            set_subscribed(false);
            if (!stop.stop_requested()) {
                log("redis: subscriber lost {}: {}; reconnecting", detail::describe(endpoint_),
                    ctx->errstr[0] != '\0' ? ctx->errstr : "connection closed");
                sleep(stop, delay.next());
            }
        }
    }

    redis_endpoint endpoint_;
    std::vector<std::string> channels_;
    handler on_message_;
    std::mutex mutex_;
    std::condition_variable_any changed_;
    bool subscribed_ = false;
    std::jthread thread_;  // last: started once everything above exists
};

}  // namespace allocation::service

#endif  // ALLOCATION_SERVICE_REDIS_HPP
