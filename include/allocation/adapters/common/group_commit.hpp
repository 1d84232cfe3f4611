// allocation — ordered group commits with early lock release, for the stores that keep their
// products in slots and write them to a database (SQLite; any store with a batch writer).
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_COMMON_GROUP_COMMIT_HPP
#define ALLOCATION_ADAPTERS_COMMON_GROUP_COMMIT_HPP

#include <algorithm>           // any_of, find, max
#include <atomic>              // atomic
#include <condition_variable>  // condition_variable
#include <cstddef>             // size_t
#include <cstdint>             // uint64_t
#include <mutex>               // mutex, unique_lock, lock_guard
#include <system_error>        // error_code
#include <utility>             // exchange, forward, move
#include <vector>              // vector

#include <allocation/adapters/common/inbox.hpp>
#include <allocation/adapters/common/slot_repository.hpp>
#include <allocation/error.hpp>
#include <allocation/try.hpp>

namespace allocation::detail {

template <class Store, class Product, class Writes>
class group_commit;

/// A group of write sets handed to a store's batch writer, in ticket order. The writer writes
/// the sets it is not told to skip, in order, and reports each set that failed (fail()) or, when
/// the transaction itself failed, every set not failed yet (fail_rest()); then committed() once
/// the transaction holding the written sets is durable. A set must be asked about (skip()) just
/// before it is written: a failed set makes the sets after it that rest on its products skipped.
/// @tparam Writes what a store records of a unit of work's changes.
/// @tparam Slot the store's product slot.
template <class Writes, class Slot>
class commit_batch {
public:
    /// The number of sets.
    [[nodiscard]] auto size() const noexcept -> std::size_t { return sets_.size(); }
    /// The writes of set `i`.
    [[nodiscard]] auto writes(std::size_t i) noexcept -> Writes& { return sets_[i]->writes; }
    /// Whether set `i` must not be written: it failed already, or rests on a product that a
    /// failed set changed (it fails with errc::conflict then).
    [[nodiscard]] auto skip(std::size_t i) -> bool {
        auto& r = *sets_[i];
        if (!r.outcome) return true;
        const auto moved = [&](const auto& s) {
            return s.slot->generation.load() != s.generation || std::find(stale_.begin(), stale_.end(), s.slot) != stale_.end();
        };
        if (std::any_of(r.seen.begin(), r.seen.end(), moved) || std::any_of(r.changed.begin(), r.changed.end(), moved)) {
            fail(i, errc::conflict);
            return true;
        }
        return false;
    }
    /// Set `i` failed with `ec`: nothing of it is kept, and its products are stale.
    void fail(std::size_t i, std::error_code ec) {
        auto& r = *sets_[i];
        if (!r.outcome) return;
        r.outcome = ec;
        for (const auto& c : r.changed) {
            if (c.slot->generation.load() == c.generation && std::find(stale_.begin(), stale_.end(), c.slot) == stale_.end()) {
                stale_.push_back(c.slot);
            }
        }
    }
    /// Whether set `i` has not failed (so far).
    [[nodiscard]] auto ok(std::size_t i) const noexcept -> bool { return static_cast<bool>(sets_[i]->outcome); }
    /// Every set not failed yet fails with `ec` (the transaction did not commit).
    void fail_rest(std::error_code ec) {
        for (std::size_t i = 0; i < sets_.size(); ++i) fail(i, ec);
    }
    /// A transaction holding the written sets is durable.
    void committed() noexcept { ++transactions_; }

private:
    template <class, class, class>
    friend class group_commit;

    // A queued set: its writes, what it rests on and what it changed, and how it ended.
    struct request {
        Writes writes;
        std::vector<sighting<Slot>> seen;     // what the set rests on
        std::vector<sighting<Slot>> changed;  // the products it changed (their slots, as seen)
        std::uint64_t ticket = 0;
        result<void> outcome = success();
        bool done = false;
        bool queued = true;  // not taken into a group yet
    };

    explicit commit_batch(std::vector<request*>& sets) noexcept : sets_(sets) {}

    std::vector<request*>& sets_;
    std::vector<Slot*> stale_;  // the slots of the products the failed sets changed
    std::uint64_t transactions_ = 0;
};

/// The commits of a slot store that releases early (what slot_unit_of_work calls:
/// commit_changes and settle), grouped and ordered:
/// - a committer records its unit of work's writes (`Writes`) while it still holds the
///   products, queues them under the next ticket and lets the products go at once: the next
///   command on the same product runs while this one waits for the disk;
/// - the first waiter to find no leader hands every queued set, in ticket order, to the store's
///   batch writer (one transaction, one sync for the whole group; see commit_batch), then wakes
///   the waiters it decided, and one waiter whose set is still queued when another group can be
///   led (each waiter sleeps on a condition variable of its own: the others sleep on, so many
///   threads waiting cost no wake-up each per group): a command is answered only once the
///   transaction holding it is durable;
/// - a set that fails makes its products stale (their generation moves on): every later set
///   made from them fails too without being written (it saw changes that were never kept), and
///   the next get() reloads them. Sets rest on earlier tickets only, so writing in ticket order
///   never writes a change before one it saw;
/// - a store may let several groups be written at once (`groups_in_flight()`, default one), each
///   in its own transaction: a waiter then also leads while fewer groups are being written,
///   taking the queued sets whose products no group in flight has (and no earlier set left in
///   the queue). Groups on other products commit side by side; the sets on a product a group in
///   flight has wait for it, and go together in the next group.
/// The store (`Store`, a friend) gives:
/// - `record_writes(held_products&, staged_inbox&) -> Writes`: the writes of a unit of work;
/// - `write_batch(commit_batch<Writes, slot>&)`: writes a group (see commit_batch);
/// - `adopt(held)`: its cache takes the products a commit added;
/// - optionally `groups_in_flight() -> size_t`: how many groups may be written at once.
/// @tparam Store the store.
/// @tparam Product a basic_product.
/// @tparam Writes what the store records of a unit of work's changes (movable).
template <class Store, class Product, class Writes>
class group_commit {
    using held_type = held_products<Product>;
    using slot = slot_of_t<Product>;
    using sighting_type = sighting<slot>;
    using batch_type = commit_batch<Writes, slot>;

public:
    /// The number of commits that failed with errc::conflict (a version changed underneath, a
    /// concurrent insert, a busy database, a commit resting on one that failed), and of
    /// transactions written (one per group).
    [[nodiscard]] auto conflicts() const noexcept -> std::uint64_t { return conflicts_.load(); }
    [[nodiscard]] auto transactions() const noexcept -> std::uint64_t { return transactions_.load(); }
    /// The number of commits queued so far (written or not), and of those decided (durable or
    /// failed); every commit queued before a decided one is decided too.
    [[nodiscard]] auto queued() const noexcept -> std::uint64_t { return queued_.load(); }
    [[nodiscard]] auto decided() const noexcept -> std::uint64_t { return decided_.load(std::memory_order_acquire); }
    /// The number of times a waiting commit was woken for nothing: its wait was not over and it
    /// led no group (another waiter led first, or every queued set rested on a group in flight).
    /// At most one per group written: a group wakes the waiters it decided and one next leader.
    [[nodiscard]] auto idle_wakeups() const noexcept -> std::uint64_t { return idle_wakeups_.load(); }

protected:
    group_commit() = default;

    // -- what slot_unit_of_work needs -------------------------------------------------------
    // Records the set, queues it and lets the products go (let_go), then waits until it is
    // written in a transaction grouped with the sets queued meanwhile; then caches the new
    // products. Errors: those of the store's batch writer, and errc::conflict when the set rests
    // on a set that failed. Nothing is kept then, and the products are reloaded by their next
    // get(). Nothing changed, recorded nor held: no transaction is needed (a product that was
    // read is checked at commit, so reads alone still need one).
    template <class LetGo>
    auto commit_changes(held_type& local, staged_inbox& inbox, const std::vector<sighting_type>& seen, LetGo&& let_go)
        -> result<void> {
        if (local.empty() && inbox.empty()) return settle(seen);
        std::vector<sighting_type> changed;
        changed.reserve(local.held.size());
        for (auto* s : local.held) changed.push_back({s, s->loaded_generation, 0});
        request req{store().record_writes(local, inbox), seen, std::move(changed), 0, success(), false, true};
        {
            const std::lock_guard lock(mutex_);
            req.ticket = queued_.load(std::memory_order_relaxed) + 1;
            queued_.store(req.ticket, std::memory_order_relaxed);
            queue_.push_back(&req);
        }
        for (auto* s : local.held) s->last_ticket = req.ticket;  // still held
        std::forward<LetGo>(let_go)();
        {
            std::unique_lock lock(mutex_);
            waiter w{&req, 0};
            wait_for(lock, w);
        }
        if (!req.outcome) {
            if (req.outcome.error() == errc::conflict) conflicts_.fetch_add(1, std::memory_order_relaxed);
            return req.outcome;
        }
        store().adopt(local);
        return success();
    }

    // Waits until the commits the sightings rest on are decided; errc::conflict when one of
    // them failed (the product seen is stale).
    auto settle(const std::vector<sighting_type>& seen) -> result<void> {
        std::uint64_t last = 0;
        for (const auto& s : seen) last = std::max(last, s.ticket);
        if (last > decided()) {
            std::unique_lock lock(mutex_);
            waiter w{nullptr, last};
            wait_for(lock, w);
        }
        for (const auto& s : seen) {
            if (s.slot->generation.load() != s.generation) return errc::conflict;
        }
        return success();
    }

    // Whether a commit queued with the slot's product is not decided yet.
    [[nodiscard]] auto pending(const slot& s) const noexcept -> bool { return s.last_ticket > decided(); }

private:
    using request = typename batch_type::request;

    auto store() noexcept -> Store& { return static_cast<Store&>(*this); }

    // A thread waiting in wait_for(): for its set to be decided (`req`), or for every commit up
    // to `until` to be decided (settle()). It sleeps on its own condition variable and is woken
    // only when that happened, or to lead the next group: a group written wakes the waiters it
    // decided and at most one other, never the whole crowd.
    struct waiter {
        request* req;
        std::uint64_t until;
        std::mutex mutex;  // guards woken
        std::condition_variable wake;
        bool woken = false;

        waiter(request* r, std::uint64_t u) noexcept : req(r), until(u) {}
    };

    // Whether what `w` waits for happened (under mutex_).
    [[nodiscard]] auto ready(const waiter& w) const noexcept -> bool {
        return w.req != nullptr ? w.req->done : decided() >= w.until;
    }

    // Whether a waiter could lead a group now (under mutex_).
    [[nodiscard]] auto can_lead() const noexcept -> bool { return flights_.size() < in_flight_limit() && !queue_.empty(); }

    // Waits until what `w` waits for happened, leading queued sets to the database whenever
    // fewer groups than the store allows are being written and some queued sets can go (see
    // take()).
    void wait_for(std::unique_lock<std::mutex>& lock, waiter& w) {
        bool woken = false;
        while (!ready(w)) {
            flight f;
            if (can_lead()) f = take();
            if (f.group.empty()) {
                if (woken) idle_wakeups_.fetch_add(1, std::memory_order_relaxed);
                sleep(lock, w);
                woken = true;
                continue;
            }
            woken = false;
            flights_.push_back(&f);
            lock.unlock();
            write_group(f.group);
            lock.lock();
            for (auto* r : f.group) r->done = true;
            flights_.erase(std::find(flights_.begin(), flights_.end(), &f));
            // Every ticket before the first one still queued or in flight is decided.
            auto first = queued_.load(std::memory_order_relaxed) + 1;
            if (!queue_.empty()) first = std::min(first, queue_.front()->ticket);
            for (const auto* other : flights_) first = std::min(first, other->group.front()->ticket);
            decided_.store(first - 1, std::memory_order_release);
            wake_ready(lock);
        }
    }

    // Sleeps until a leader wakes `w` (registered under mutex_, which it lets go meanwhile).
    void sleep(std::unique_lock<std::mutex>& lock, waiter& w) {
        {
            const std::lock_guard own(w.mutex);
            w.woken = false;
        }
        sleeping_.push_back(&w);
        lock.unlock();
        {
            std::unique_lock own(w.mutex);
            w.wake.wait(own, [&] { return w.woken; });
        }
        lock.lock();
    }

    // After a group was written (holding `lock`): wakes every sleeper whose wait is over and,
    // when another group could be led, one sleeper whose set is still queued (the first), to
    // lead it. They are woken after `lock` is let go, each holding its own mutex only: a woken
    // waiter never queues for mutex_ behind the others.
    void wake_ready(std::unique_lock<std::mutex>& lock) {
        std::vector<waiter*> woken;
        bool leader = !can_lead();  // found one, or none is needed
        for (auto it = sleeping_.begin(); it != sleeping_.end();) {
            auto* w = *it;
            const bool leads = !leader && w->req != nullptr && w->req->queued;
            if (ready(*w) || leads) {
                leader = leader || leads;
                woken.push_back(w);
                it = sleeping_.erase(it);
            } else {
                ++it;
            }
        }
        lock.unlock();
        for (auto* w : woken) {
            // Notified holding its mutex: the waiter cannot see `woken` and return (ending its
            // waiter) before this is done with it.
            const std::lock_guard own(w->mutex);
            w->woken = true;
            w->wake.notify_one();
        }
        lock.lock();
    }

    // A group being written: its sets, and the slots of their products.
    struct flight {
        std::vector<request*> group;
        std::vector<const slot*> products;
    };

    // Takes from the queue, in ticket order, every set that shares no product with a group being
    // written nor with an earlier set left in the queue: groups in flight never share a product,
    // so each set's writes follow those of every set it rests on (earlier sets on its products).
    // With no group in flight, that is the whole queue.
    auto take() -> flight {
        flight f;
        std::vector<const slot*> blocked;
        for (const auto* other : flights_) blocked.insert(blocked.end(), other->products.begin(), other->products.end());
        const auto products_of = [](const request& r, std::vector<const slot*>& out) {
            for (const auto& s : r.changed) out.push_back(s.slot);
            for (const auto& s : r.seen) out.push_back(s.slot);
        };
        const auto touches = [&](const request& r) {
            const auto in = [&](const auto& s) { return std::find(blocked.begin(), blocked.end(), s.slot) != blocked.end(); };
            return std::any_of(r.changed.begin(), r.changed.end(), in) || std::any_of(r.seen.begin(), r.seen.end(), in);
        };
        std::vector<request*> rest;
        for (auto* r : queue_) {
            if (touches(*r)) {
                rest.push_back(r);
                products_of(*r, blocked);
            } else {
                r->queued = false;
                f.group.push_back(r);
                products_of(*r, f.products);
            }
        }
        queue_ = std::move(rest);
        return f;
    }

    // How many groups may be written at once: the store's groups_in_flight() when it has one,
    // else one.
    [[nodiscard]] auto in_flight_limit() const noexcept -> std::size_t {
        if constexpr (requires(const Store& s) { s.groups_in_flight(); }) {
            return std::max<std::size_t>(1, static_cast<const Store&>(*this).groups_in_flight());
        } else {
            return 1;
        }
    }

    // Has the store write a group in ticket order; then moves the generation of every product a
    // failed set changed, so that what was made from it fails and it is reloaded.
    void write_group(std::vector<request*>& group) {
        batch_type batch(group);
        store().write_batch(batch);
        transactions_.fetch_add(batch.transactions_, std::memory_order_relaxed);
        for (auto* s : batch.stale_) s->generation.fetch_add(1);
    }

    std::mutex mutex_;
    std::vector<waiter*> sleeping_;  // the waiters asleep
    std::vector<request*> queue_;    // in ticket order
    std::vector<flight*> flights_;   // the groups being written
    std::atomic<std::uint64_t> queued_{0};
    std::atomic<std::uint64_t> decided_{0};
    std::atomic<std::uint64_t> conflicts_{0};
    std::atomic<std::uint64_t> transactions_{0};
    std::atomic<std::uint64_t> idle_wakeups_{0};
};

}  // namespace allocation::detail

#endif  // ALLOCATION_ADAPTERS_COMMON_GROUP_COMMIT_HPP
