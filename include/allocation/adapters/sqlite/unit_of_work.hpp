// allocation — SQLite adapter: the unit of work, changes made on held products in memory and
// recorded at commit and written in one transaction grouped with the concurrent commits of the
// same store (one fsync for the group); the products are let go before the disk is reached.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_SQLITE_UNIT_OF_WORK_HPP
#define ALLOCATION_ADAPTERS_SQLITE_UNIT_OF_WORK_HPP

#include <sqlite3.h>

#include <algorithm>           // any_of, find, max
#include <atomic>              // atomic
#include <condition_variable>  // condition_variable
#include <cstddef>             // size_t
#include <cstdint>             // uint64_t
#include <mutex>               // mutex, unique_lock, lock_guard
#include <utility>             // exchange
#include <vector>              // vector

#include <allocation/adapters/common/inbox.hpp>
#include <allocation/adapters/common/slot_repository.hpp>
#include <allocation/adapters/common/slot_unit_of_work.hpp>
#include <allocation/adapters/sqlite/codec.hpp>
#include <allocation/error.hpp>
#include <allocation/fwd.hpp>
#include <allocation/try.hpp>

namespace allocation::sqlite {

template <class Product>
class basic_store;

/// A unit of work over an SQLite store (see allocation::detail::slot_unit_of_work): commit()
/// writes what changed, or fails changing nothing; rollback() (also on destruction without
/// commit) undoes the changes exactly. It can be used again after either. It has an inbox
/// (records_processed_messages).
template <class Product>
using basic_unit_of_work = allocation::detail::slot_unit_of_work<basic_store<Product>>;
using unit_of_work = basic_unit_of_work<allocation::product>;

namespace detail {

/// The commits of an SQLite store (what slot_unit_of_work calls: commit_changes), grouped and
/// ordered, with early lock release:
/// - a committer records its unit of work's writes (write_set) while it still holds the
///   products, queues them under the next ticket and lets the products go at once: the next
///   command on the same product runs while this one waits for the disk;
/// - the first waiter to find no leader writes every queued set in ticket order in one
///   `BEGIN IMMEDIATE ... COMMIT`, each set in its own SAVEPOINT so that one failing set fails
///   alone, then wakes the others: one fsync for the whole group, and a command is answered
///   only once the transaction holding it is durable;
/// - a set that fails makes its products stale (their generation moves on): every later set
///   made from them fails too without being written (it saw changes that were never kept), and
///   the next get() reloads them from the database. Sets rest on earlier tickets only, so
///   writing in ticket order never writes a change before one it saw.
/// The store (`Store`, a friend) gives `writer()` (its writer session), `note_error(db)` and
/// `adopt(held)` (its cache takes the added products).
/// @tparam Store the store.
/// @tparam Product a basic_product.
template <class Store, class Product>
class group_commit {
    using held_type = allocation::detail::held_products<Product>;
    using slot = allocation::detail::slot_of_t<Product>;
    using sighting = allocation::detail::sighting<slot>;

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

protected:
    group_commit() = default;

    // -- what slot_unit_of_work needs -------------------------------------------------------
    // Records the set, queues it and lets the products go (let_go), then waits until it is
    // written in a transaction grouped with the sets queued meanwhile, durably as
    // options::durability says, with the products' events (to the outbox) and the inbox
    // records; then caches the new products. Errors: errc::conflict when a product's version
    // changed underneath, another writer added the same SKU, batch or message id first, the
    // database stayed locked for the busy timeout, or the set rests on a set that failed;
    // errc::storage_error. Nothing is kept then, and the products are reloaded by their next
    // get(). Nothing changed, recorded nor held: no transaction is needed (a product that was
    // read is checked at commit, so reads alone still need one).
    template <class LetGo>
    auto commit_changes(held_type& local, allocation::detail::staged_inbox& inbox, const std::vector<sighting>& seen,
                        LetGo&& let_go) -> result<void> {
        if (local.empty() && inbox.empty()) return settle(seen);
        request req;
        for (auto* s : local.held) write_held(req.writes, *s->product);
        for (const auto& p : local.added) write_added(req.writes, *p);
        write_inbox(req.writes, inbox);
        req.seen = seen;
        req.changed.reserve(local.held.size());
        for (auto* s : local.held) req.changed.push_back({s, s->loaded_generation, 0});
        {
            const std::lock_guard lock(queue_mutex_);
            req.ticket = queued_.load(std::memory_order_relaxed) + 1;
            queued_.store(req.ticket, std::memory_order_relaxed);
            queue_.push_back(&req);
        }
        for (auto* s : local.held) s->last_ticket = req.ticket;  // still held
        std::forward<LetGo>(let_go)();
        {
            std::unique_lock lock(queue_mutex_);
            wait_for(lock, [&] { return req.done; });
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
    auto settle(const std::vector<sighting>& seen) -> result<void> {
        std::uint64_t last = 0;
        for (const auto& s : seen) last = std::max(last, s.ticket);
        if (last > decided()) {
            std::unique_lock lock(queue_mutex_);
            wait_for(lock, [&] { return decided() >= last; });
        }
        for (const auto& s : seen) {
            if (s.slot->generation.load() != s.generation) return errc::conflict;
        }
        return success();
    }

    // Whether a commit queued with the slot's product is not decided yet.
    [[nodiscard]] auto pending(const slot& s) const noexcept -> bool { return s.last_ticket > decided(); }

private:
    struct request {
        write_set writes;
        std::vector<sighting> seen;     // what the set rests on
        std::vector<sighting> changed;  // the products it changed (their slots, as seen)
        std::uint64_t ticket = 0;
        result<void> outcome = success();
        bool done = false;
    };

    auto store() noexcept -> Store& { return static_cast<Store&>(*this); }

    // Waits until `ready()`, leading the queued sets to the database whenever no one does.
    template <class Ready>
    void wait_for(std::unique_lock<std::mutex>& lock, Ready ready) {
        while (!ready()) {
            if (!leading_ && !queue_.empty()) {
                leading_ = true;
                auto group = std::exchange(queue_, {});
                lock.unlock();
                write_group(group);
                lock.lock();
                const auto last = group.back()->ticket;
                for (auto* r : group) r->done = true;
                decided_.store(last, std::memory_order_release);
                leading_ = false;
                queue_done_.notify_all();
            } else {
                queue_done_.wait(lock);
            }
        }
    }

    // Writes a group in ticket order in one transaction; then moves the generation of every
    // product a failed set changed, so that what was made from it fails and it is reloaded.
    void write_group(const std::vector<request*>& group) {
        std::vector<slot*> stale;
        const auto is_stale = [&](const request& r) {
            const auto moved = [&](const sighting& s) {
                return s.slot->generation.load() != s.generation ||
                       std::find(stale.begin(), stale.end(), s.slot) != stale.end();
            };
            return std::any_of(r.seen.begin(), r.seen.end(), moved) || std::any_of(r.changed.begin(), r.changed.end(), moved);
        };
        const auto fail = [&](request& r, std::error_code ec) {
            r.outcome = ec;
            for (const auto& c : r.changed) {
                if (c.slot->generation.load() == c.generation &&
                    std::find(stale.begin(), stale.end(), c.slot) == stale.end()) {
                    stale.push_back(c.slot);
                }
            }
        };
        {
            auto& s = store().writer();
            const std::lock_guard lock(s.mutex);
            if (const int rc = s.begin.exec(); rc != SQLITE_DONE) {
                store().note_error(s.db.get());
                for (auto* r : group) fail(*r, write_error(rc));
            } else {
                const bool single = group.size() == 1;
                std::size_t written = 0;
                for (auto* r : group) {
                    if (is_stale(*r)) {
                        fail(*r, errc::conflict);
                        continue;
                    }
                    if (!single) s.savepoint.exec();
                    if (auto w = r->writes.run(s); !w) {
                        store().note_error(s.db.get());
                        if (!single) {
                            s.rollback_to.exec();
                            s.release.exec();
                        }
                        fail(*r, w.error());
                    } else {
                        if (!single) s.release.exec();
                        ++written;
                    }
                }
                if (written == 0) {
                    s.rollback.exec();
                } else if (const int end = s.commit.exec(); end != SQLITE_DONE) {
                    store().note_error(s.db.get());
                    s.rollback.exec();
                    for (auto* r : group) {
                        if (r->outcome) fail(*r, write_error(end));
                    }
                } else {
                    transactions_.fetch_add(1, std::memory_order_relaxed);
                }
            }
        }
        for (auto* s : stale) s->generation.fetch_add(1);
    }

    std::mutex queue_mutex_;
    std::condition_variable queue_done_;
    std::vector<request*> queue_;
    bool leading_ = false;
    std::atomic<std::uint64_t> queued_{0};
    std::atomic<std::uint64_t> decided_{0};
    std::atomic<std::uint64_t> conflicts_{0};
    std::atomic<std::uint64_t> transactions_{0};
};

}  // namespace detail

}  // namespace allocation::sqlite

#endif  // ALLOCATION_ADAPTERS_SQLITE_UNIT_OF_WORK_HPP
