// allocation-service — Idempotency-Key: the first answer to a key is replayed for the same
// request, and another request under the same key is refused.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_SERVICE_IDEMPOTENCY_HPP
#define ALLOCATION_SERVICE_IDEMPOTENCY_HPP

#include <condition_variable>  // condition_variable
#include <cstddef>             // size_t
#include <deque>               // deque
#include <mutex>               // mutex, unique_lock
#include <string>              // string
#include <string_view>         // string_view
#include <unordered_map>       // unordered_map
#include <utility>             // move

#include <nlohmann/json.hpp>

namespace allocation::service {

/// An answer as sent: status and body.
struct stored_response {
    int status = 0;
    std::string body;
    friend auto operator==(const stored_response&, const stored_response&) -> bool = default;
};

/// What to do with a request carrying an Idempotency-Key.
struct idempotency_claim {
    enum class kind {
        proceed,   ///< first time: do the work, then complete() or abandon() the key
        replay,    ///< answered before: send `response` again
        mismatch,  ///< the key was used for another request
    };
    kind outcome = kind::proceed;
    stored_response response;
};

/// Where Idempotency-Key answers are kept. The in-memory one below loses them on restart; a
/// database-backed one can replace it without touching the HTTP layer.
class idempotency_store {
public:
    idempotency_store() = default;
    idempotency_store(const idempotency_store&) = delete;
    auto operator=(const idempotency_store&) -> idempotency_store& = delete;
    virtual ~idempotency_store() = default;

    /// Claims `key` for the request identified by `fingerprint`. While another request holds the
    /// same key, waits for its answer.
    virtual auto claim(const std::string& key, const std::string& fingerprint) -> idempotency_claim = 0;
    /// Records the answer to a claimed key.
    virtual void complete(const std::string& key, stored_response response) = 0;
    /// Releases a claimed key without an answer (the work failed in a way worth retrying).
    virtual void abandon(const std::string& key) = 0;
};

/// The fingerprint of a request: method, path and body, the body normalised when it is JSON
/// (so whitespace and key order do not matter).
[[nodiscard]] inline auto request_fingerprint(std::string_view method, std::string_view path, std::string_view body)
    -> std::string {
    std::string out(method);
    out += ' ';
    out += path;
    out += '\n';
    const auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded()) {
        out += body;
    } else {
        out += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    return out;
}

/// Keeps the answers of the last `capacity` keys in memory. Thread-safe.
class memory_idempotency_store final : public idempotency_store {
public:
    explicit memory_idempotency_store(std::size_t capacity = 100'000) : capacity_(capacity) {}

    auto claim(const std::string& key, const std::string& fingerprint) -> idempotency_claim override {
        std::unique_lock lock(mutex_);
        for (;;) {
            const auto it = entries_.find(key);
            if (it == entries_.end()) {
                entries_.emplace(key, entry{fingerprint, true, {}, ++sequence_});
                order_.emplace_back(key, sequence_);
                evict();
                return {};
            }
            if (it->second.fingerprint != fingerprint) return {idempotency_claim::kind::mismatch, {}};
            if (!it->second.in_flight) return {idempotency_claim::kind::replay, it->second.response};
            done_.wait(lock);
        }
    }

    void complete(const std::string& key, stored_response response) override {
        {
            const std::lock_guard lock(mutex_);
            if (const auto it = entries_.find(key); it != entries_.end()) {
                it->second.in_flight = false;
                it->second.response = std::move(response);
            }
        }
        done_.notify_all();
    }

    void abandon(const std::string& key) override {
        {
            const std::lock_guard lock(mutex_);
            entries_.erase(key);  // its slot in order_ is skipped when evicting
        }
        done_.notify_all();
    }

private:
    struct entry {
        std::string fingerprint;
        bool in_flight = true;
        stored_response response;
        std::size_t sequence = 0;  ///< tells a re-claimed key from its abandoned predecessor
    };

    void evict() {
        while (order_.size() > capacity_) {
            const auto& [key, sequence] = order_.front();
            const auto it = entries_.find(key);
            if (it != entries_.end() && it->second.sequence == sequence) {
                if (it->second.in_flight) break;  // never drop a key whose work is running
                entries_.erase(it);
            }
            order_.pop_front();
        }
    }

    std::size_t capacity_;
    std::mutex mutex_;
    std::condition_variable done_;
    std::unordered_map<std::string, entry> entries_;
    std::deque<std::pair<std::string, std::size_t>> order_;  // oldest first
    std::size_t sequence_ = 0;
};

}  // namespace allocation::service

#endif  // ALLOCATION_SERVICE_IDEMPOTENCY_HPP
