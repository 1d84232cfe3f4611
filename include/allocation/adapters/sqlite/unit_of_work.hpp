// allocation — SQLite adapter: the unit of work, changes made on held products in memory and
// written in one transaction at commit, grouped with the concurrent commits of the same store
// (one fsync for the group).
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_SQLITE_UNIT_OF_WORK_HPP
#define ALLOCATION_ADAPTERS_SQLITE_UNIT_OF_WORK_HPP

#include <sqlite3.h>

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

/// The commits of an SQLite store (what slot_unit_of_work calls: commit_changes), grouped: the
/// first committer to find no leader writes every queued unit of work's set in one
/// `BEGIN IMMEDIATE ... COMMIT`, each set in its own SAVEPOINT so that one conflicting set fails
/// alone, then wakes the others. The store (`Store`, a friend) gives `writer()` (its writer
/// session), `note_error(db)` and `adopt(held)` (its cache takes the added products).
/// @tparam Store the store.
/// @tparam Product a basic_product.
template <class Store, class Product>
class group_commit {
    using held_type = allocation::detail::held_products<Product>;

public:
    /// The number of commits that failed with errc::conflict (a version changed underneath, a
    /// concurrent insert, a busy database), and of transactions written (one per group).
    [[nodiscard]] auto conflicts() const noexcept -> std::uint64_t { return conflicts_.load(); }
    [[nodiscard]] auto transactions() const noexcept -> std::uint64_t { return transactions_.load(); }

protected:
    group_commit() = default;

    // -- what slot_unit_of_work needs -------------------------------------------------------
    // Writes the set in one transaction grouped with concurrent commits, durably as
    // options::durability says, with the products' events (to the outbox) and the inbox
    // records; then caches the new products. Errors: errc::conflict when a product's version
    // changed underneath, another writer added the same SKU, batch or message id first, or the
    // database stayed locked for the busy timeout; errc::storage_error. Nothing is kept then.
    // Nothing changed, nothing recorded and nothing read: no transaction is needed (a product
    // that was read is checked at commit, so reads alone still need one).
    auto commit_changes(held_type& local, allocation::detail::staged_inbox& inbox) -> result<void> {
        if (local.empty() && inbox.empty()) return success();
        request req{&local, &inbox};
        submit(req);
        if (!req.outcome) {
            if (req.outcome.error() == errc::conflict) conflicts_.fetch_add(1, std::memory_order_relaxed);
            return req.outcome;
        }
        store().adopt(local);
        return success();
    }

private:
    struct request {
        const held_type* set;
        const allocation::detail::staged_inbox* inbox;
        result<void> outcome = success();
        bool done = false;
    };

    auto store() noexcept -> Store& { return static_cast<Store&>(*this); }

    // Queues the request; the first committer without a leader writes the queue.
    void submit(request& req) {
        std::unique_lock lock(queue_mutex_);
        queue_.push_back(&req);
        while (!req.done) {
            if (!leading_) {
                leading_ = true;
                auto group = std::exchange(queue_, {});
                lock.unlock();
                write_group(group);
                lock.lock();
                for (auto* r : group) r->done = true;
                leading_ = false;
                queue_done_.notify_all();
            } else {
                queue_done_.wait(lock);
            }
        }
    }

    // One unit of work's set, in the leader's open transaction.
    static auto write_set(session& s, const request& r) -> result<void> {
        for (auto* slot : r.set->held) {
            ALLOCATION_TRYV(write_held(s, *slot->product));
        }
        for (const auto& p : r.set->added) {
            ALLOCATION_TRYV(write_added(s, *p));
        }
        return write_inbox(s, *r.inbox);
    }

    void write_group(std::vector<request*>& group) {
        auto& s = store().writer();
        const std::lock_guard lock(s.mutex);
        const auto fail_all = [&](int rc) {
            store().note_error(s.db.get());
            for (auto* r : group) r->outcome = write_error(rc);
        };
        if (const int rc = s.begin.exec(); rc != SQLITE_DONE) {
            fail_all(rc);
            return;
        }
        const bool single = group.size() == 1;
        std::size_t written = 0;
        for (auto* r : group) {
            if (!single) s.savepoint.exec();
            r->outcome = write_set(s, *r);
            if (!r->outcome) {
                store().note_error(s.db.get());
                if (!single) {
                    s.rollback_to.exec();
                    s.release.exec();
                }
            } else {
                if (!single) s.release.exec();
                ++written;
            }
        }
        if (written == 0) {
            s.rollback.exec();
            return;
        }
        if (const int rc = s.commit.exec(); rc != SQLITE_DONE) {
            s.rollback.exec();
            fail_all(rc);
            return;
        }
        transactions_.fetch_add(1, std::memory_order_relaxed);
    }

    std::mutex queue_mutex_;
    std::condition_variable queue_done_;
    std::vector<request*> queue_;
    bool leading_ = false;
    std::atomic<std::uint64_t> conflicts_{0};
    std::atomic<std::uint64_t> transactions_{0};
};

}  // namespace detail

}  // namespace allocation::sqlite

#endif  // ALLOCATION_ADAPTERS_SQLITE_UNIT_OF_WORK_HPP
