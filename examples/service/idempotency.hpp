// allocation-service — Idempotency-Key: the first answer to a key is replayed for the same
// request, and another request under the same key is refused.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_SERVICE_IDEMPOTENCY_HPP
#define ALLOCATION_SERVICE_IDEMPOTENCY_HPP

#include <condition_variable>  // condition_variable
#include <cstddef>             // size_t
#include <cstdint>             // uint64_t
#include <deque>               // deque
#include <mutex>               // mutex, unique_lock
#include <string>              // string
#include <string_view>         // string_view
#include <unordered_map>       // unordered_map
#include <utility>             // move

#include <fmt/format.h>

#include "log.hpp"
#include "strict_json.hpp"

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
        unavailable,  ///< the store of answers could not be read: answer 503, do nothing
    };
    kind outcome = kind::proceed;
    stored_response response;
};

/// Where Idempotency-Key answers are kept: in memory (lost on restart) or in the service's
/// database (durable_idempotency_store), behind the same interface for the HTTP layer.
class idempotency_store {
public:
    idempotency_store() = default;
    idempotency_store(const idempotency_store&) = delete;
    auto operator=(const idempotency_store&) -> idempotency_store& = delete;
    virtual ~idempotency_store() = default;

    /// Claims `key` for the request identified by `fingerprint`. While another request holds the
    /// same key, waits for its answer.
    virtual auto claim(const std::string& key, const std::string& fingerprint) -> idempotency_claim = 0;
    /// Records the answer to a claimed key; returns the answer to send, which is another one
    /// when another process answered the same key first.
    virtual auto complete(const std::string& key, stored_response response) -> stored_response = 0;
    /// Releases a claimed key without an answer (the work failed in a way worth retrying).
    virtual void abandon(const std::string& key) = 0;
};

/// The fingerprint of a request: method, path and body, the body normalised when it is a JSON
/// value the API would accept (parse_json_body: so whitespace and key order do not matter),
/// else its bytes. Nothing here recurses on client data: only a value at most max_json_depth
/// deep is serialised again.
[[nodiscard]] inline auto request_fingerprint(std::string_view method, std::string_view path, std::string_view body)
    -> std::string {
    std::string out(method);
    out += ' ';
    out += path;
    out += '\n';
    if (auto j = parse_json_body(body)) {
        out += j.value().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } else {
        out += body;
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

    auto complete(const std::string& key, stored_response response) -> stored_response override {
        {
            const std::lock_guard lock(mutex_);
            if (const auto it = entries_.find(key); it != entries_.end()) {
                it->second.in_flight = false;
                it->second.response = response;
            }
        }
        done_.notify_all();
        return response;
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

/// What is kept of a fingerprint in the database: the fingerprint itself up to 1 kB, else its
/// length and two 64-bit FNV-1a hashes (so a 1 MB body does not make a 1 MB key row).
[[nodiscard]] inline auto fingerprint_digest(std::string_view fingerprint) -> std::string {
    if (fingerprint.size() <= 1024) return std::string(fingerprint);
    auto fnv = [&](std::uint64_t h) {
        for (const char c : fingerprint) {
            h ^= static_cast<unsigned char>(c);
            h *= 0x100000001b3ULL;
        }
        return h;
    };
    return fmt::format("fnv1a:{}:{:016x}{:016x}", fingerprint.size(), fnv(0xcbf29ce484222325ULL),
                       fnv(0x84222325cbf29ce4ULL));
}

/// Idempotency-Key answers kept in the service's database by a storage adapter's
/// idempotency_keys (`find(key)`, `save(key, fingerprint, status, body)`: first answer wins),
/// so they survive restarts and are shared by every process on the database. Requests of this
/// process under one key wait for each other; two processes racing on a new key both do the
/// work (the domain makes a repeated order line harmless) and both answer with the first
/// answer saved. Thread-safe.
/// @tparam Keys sqlite::idempotency_keys or postgres::idempotency_keys.
template <class Keys>
class durable_idempotency_store final : public idempotency_store {
public:
    explicit durable_idempotency_store(Keys& keys) : keys_(&keys) {}

    auto claim(const std::string& key, const std::string& fingerprint) -> idempotency_claim override {
        {
            std::unique_lock lock(mutex_);
            done_.wait(lock, [&] { return !in_flight_.contains(key); });
            in_flight_.emplace(key, fingerprint_digest(fingerprint));
        }
        auto found = keys_->find(key);
        if (found && !found.value()) return {};  // new: the caller does the work
        release(key);
        if (!found) return {idempotency_claim::kind::unavailable, {}};
        const auto& kept = *found.value();
        if (kept.fingerprint != fingerprint_digest(fingerprint)) return {idempotency_claim::kind::mismatch, {}};
        return {idempotency_claim::kind::replay, {kept.status, kept.body}};
    }

    auto complete(const std::string& key, stored_response response) -> stored_response override {
        std::string digest;
        {
            const std::lock_guard lock(mutex_);
            if (const auto it = in_flight_.find(key); it != in_flight_.end()) digest = it->second;
        }
        auto saved = keys_->save(key, digest, response.status, response.body);
        if (saved && !saved.value()) {  // another process answered first: send its answer
            if (auto found = keys_->find(key); found && found.value() && found.value()->fingerprint == digest) {
                response = {found.value()->status, found.value()->body};
            }
        } else if (!saved) {
            log("idempotency: the answer to key {} could not be saved: {}", key, saved.error().message());
        }
        release(key);
        return response;
    }

    void abandon(const std::string& key) override { release(key); }

private:
    void release(const std::string& key) {
        {
            const std::lock_guard lock(mutex_);
            in_flight_.erase(key);
        }
        done_.notify_all();
    }

    Keys* keys_;
    std::mutex mutex_;
    std::condition_variable done_;
    std::unordered_map<std::string, std::string> in_flight_;  // key -> fingerprint digest
};

}  // namespace allocation::service

#endif  // ALLOCATION_SERVICE_IDEMPOTENCY_HPP
