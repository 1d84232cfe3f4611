// allocation — SQLite adapter: the unit of work, changes made on held products in memory and
// recorded at commit and written in one transaction grouped with the concurrent commits of the
// same store (one fsync for the group, see common/group_commit.hpp); the products are let go
// before the disk is reached.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_SQLITE_UNIT_OF_WORK_HPP
#define ALLOCATION_ADAPTERS_SQLITE_UNIT_OF_WORK_HPP

#include <sqlite3.h>

#include <cstddef>  // size_t
#include <mutex>    // lock_guard

#include <allocation/adapters/common/group_commit.hpp>
#include <allocation/adapters/common/inbox.hpp>
#include <allocation/adapters/common/slot_repository.hpp>
#include <allocation/adapters/common/slot_unit_of_work.hpp>
#include <allocation/adapters/sqlite/codec.hpp>
#include <allocation/error.hpp>
#include <allocation/fwd.hpp>
#include <allocation/try.hpp>

namespace allocation::sqlite {

namespace detail {

/// The batch writer of an SQLite store, the hooks its group commits call (see
/// allocation::detail::group_commit): record_writes() records a unit of work's writes (a
/// write_set: each held product's `UPDATE products SET version ... WHERE version = <loaded>`
/// and tracked changes, each added product's rows, the events for the outbox and the inbox
/// records); write_batch() writes a group in one `BEGIN IMMEDIATE ... COMMIT`, each set in its
/// own SAVEPOINT so that one failing set fails alone. The store (`Store`, a friend) gives
/// `writer()` (its writer session) and `note_error(db)`.
/// @tparam Store the store.
/// @tparam Product a basic_product.
template <class Store, class Product>
class batch_writer {
protected:
    using batch_type = allocation::detail::commit_batch<write_set, allocation::detail::slot_of_t<Product>>;

    batch_writer() = default;

    auto record_writes(allocation::detail::held_products<Product>& local, allocation::detail::staged_inbox& inbox)
        -> write_set {
        write_set w;
        for (auto* s : local.held) write_held(w, *s->product);
        for (const auto& p : local.added) write_added(w, *p);
        write_inbox(w, inbox);
        return w;
    }

    // Errors of a set: errc::conflict when a product's version changed underneath, another
    // writer added the same SKU, batch or message id first, or the database stayed locked for
    // the busy timeout; errc::storage_error.
    void write_batch(batch_type& batch) {
        auto& s = store().writer();
        const std::lock_guard lock(s.mutex);
        if (const int rc = s.begin.exec(); rc != SQLITE_DONE) {
            store().note_error(s.db.get());
            batch.fail_rest(write_error(rc));
            return;
        }
        const bool single = batch.size() == 1;
        std::size_t written = 0;
        for (std::size_t i = 0; i < batch.size(); ++i) {
            if (batch.skip(i)) continue;
            if (!single) s.savepoint.exec();
            if (auto w = batch.writes(i).run(s); !w) {
                store().note_error(s.db.get());
                if (!single) {
                    s.rollback_to.exec();
                    s.release.exec();
                }
                batch.fail(i, w.error());
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
            batch.fail_rest(write_error(end));
        } else {
            batch.committed();
        }
    }

private:
    auto store() noexcept -> Store& { return static_cast<Store&>(*this); }
};

}  // namespace detail

}  // namespace allocation::sqlite

#endif  // ALLOCATION_ADAPTERS_SQLITE_UNIT_OF_WORK_HPP
