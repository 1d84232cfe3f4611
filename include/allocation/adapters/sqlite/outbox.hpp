// allocation — SQLite adapter: the outbox, events committed with the state change, handed to an
// EventPublisher afterwards by the relay, which moves a cursor past them (at-least-once).
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_SQLITE_OUTBOX_HPP
#define ALLOCATION_ADAPTERS_SQLITE_OUTBOX_HPP

#include <sqlite3.h>

#include <algorithm>    // min, minmax_element
#include <cstddef>      // size_t
#include <cstdint>      // int64_t
#include <span>         // span
#include <string_view>  // string_view
#include <utility>      // move
#include <vector>       // vector

#include <fmt/format.h>

#include <allocation/adapters/common/outbox_row.hpp>
#include <allocation/adapters/common/relay.hpp>
#include <allocation/adapters/sqlite/codec.hpp>
#include <allocation/adapters/sqlite/connection.hpp>
#include <allocation/adapters/sqlite/store.hpp>
#include <allocation/error.hpp>
#include <allocation/try.hpp>

namespace allocation::sqlite {

/// The outbox of a store: every event a commit wrote, with its stable id (its commit order).
/// relay() publishes the unsent ones in id order and marks them sent by moving the cursor
/// (`outbox_cursor.last`, see schema.hpp) past them: one small write per batch published, in a
/// transaction of its own that does not wait for the disk (a cursor lost in a crash only
/// publishes its events again). A crash between publishing and moving the cursor publishes them
/// again (at-least-once: consumers de-duplicate by id when they must). Several relays, in one
/// process or several, may run on one database: each publishes from the cursor it read and
/// moves it only forward and only from at or after where it read it, so no event is ever
/// skipped; some may be published twice. Published events are deleted in bulk, in the
/// transaction that moves the cursor, once `prune_after` of them are kept. Thread-safe.
template <class Product>
class basic_outbox : public allocation::detail::relaying_outbox<basic_outbox<Product>, typename Product::traits_type> {
    using traits_type = typename Product::traits_type;

public:
    using record = allocation::detail::basic_outbox_record<traits_type>;

    /// The outbox of `s`; published events are deleted once at least `prune_after` of them are
    /// kept (the row at the cursor always stays).
    explicit basic_outbox(basic_store<Product>& s, std::size_t prune_after = 4096) noexcept
        : store_(&s), prune_after_(prune_after) {}

    /// Up to `max` events with an id greater than `after`, in id order, sent or not (sent ones
    /// until they are deleted).
    auto read(std::int64_t after = 0, std::size_t max = 1000) -> result<std::vector<record>> {
        ALLOCATION_TRY(rows, load("WHERE o.id > ?", after, max));
        return std::move(rows.records);
    }

    /// Up to `max` unsent events, in id order.
    auto unsent(std::size_t max = 1000) -> result<std::vector<record>> {
        ALLOCATION_TRY(rows, load("WHERE o.id > c.last AND o.id > ?", 0, max));
        return std::move(rows.records);
    }

    /// The number of unsent events.
    auto pending() -> result<std::size_t> {
        return store_->with_reader([](sqlite3* db) -> result<std::size_t> {
            detail::statement st(db, "SELECT count(*) FROM outbox WHERE id > (SELECT last FROM outbox_cursor)");
            if (!st.ok() || st.step() != SQLITE_ROW) return errc::storage_error;
            return static_cast<std::size_t>(st.int64(0));
        });
    }

    /// The cursor: every event with an id up to it was published.
    auto cursor() -> result<std::int64_t> {
        return store_->with_reader([](sqlite3* db) -> result<std::int64_t> {
            detail::statement st(db, "SELECT last FROM outbox_cursor");
            if (!st.ok() || st.step() != SQLITE_ROW) return errc::storage_error;
            return st.int64(0);
        });
    }

    /// Gives up to `max` unsent events, oldest first, to `take(std::span<const record>)`, which
    /// returns how many of them it took (the first ones), and marks those sent (one cursor
    /// write); returns that number. Taking them all also passes the rows of channels this
    /// version does not know among them.
    template <class Take>
    auto take_unsent(std::size_t max, Take&& take) -> result<std::size_t> {
        ALLOCATION_TRY(rows, load("WHERE o.id > c.last AND o.id > ?", 0, max));
        const std::size_t taken = std::min(take(std::span<const record>(rows.records)), rows.records.size());
        if (taken == 0) return std::size_t{0};
        const auto upto = taken == rows.records.size() ? rows.last_id : rows.records[taken - 1].id;
        ALLOCATION_TRYV(advance(rows.cursor, upto));  // not moved: another relay is past `upto`
        return taken;
    }

    /// Marks events sent: `ids` must be a run of the oldest unsent events (as unsent() lists
    /// them); the cursor moves to the largest of them. Errors: errc::conflict when unsent events
    /// older than the smallest of them are left (nothing is marked then).
    auto mark_sent(const std::vector<std::int64_t>& ids) -> result<void> {
        if (ids.empty()) return success();
        const auto [low, high] = std::minmax_element(ids.begin(), ids.end());
        ALLOCATION_TRY(moved, advance(*low - 1, *high));
        if (moved) return success();
        ALLOCATION_TRY(last, cursor());
        if (last < *high) return errc::conflict;
        return success();
    }

private:
    struct loaded {
        std::vector<record> records;
        std::int64_t cursor = 0;   // the cursor the rows were read with
        std::int64_t last_id = 0;  // the id of the last row read, also of a channel not known
    };

    // The outbox rows `where` selects (`o`: the outbox, `c`: the cursor; binding `after` and then
    // `max`), in id order, with the cursor they were read with.
    auto load(std::string_view where, std::int64_t after, std::size_t max) -> result<loaded> {
        const auto sql = fmt::format("SELECT o.id, o.channel, o.orderid, o.sku, o.batchref, o.qty, o.qty2, o.eta, "
                                     "o.reason, o.id <= c.last, c.last FROM outbox o, outbox_cursor c {} "
                                     "ORDER BY o.id LIMIT ?",
                                     where);
        return store_->with_reader([&](sqlite3* db) -> result<loaded> {
            detail::statement st(db, sql);
            if (!st.ok()) return errc::storage_error;
            st.bind(1, after);
            st.bind(2, static_cast<std::int64_t>(max));
            loaded out;
            int rc = 0;
            while ((rc = st.step()) == SQLITE_ROW) {
                out.cursor = st.int64(10);
                out.last_id = st.int64(0);
                if (auto e = allocation::detail::from_outbox_row(detail::read_outbox_row<traits_type>(st))) {
                    out.records.push_back({st.int64(0), st.text(1), std::move(*e), st.int64(9) != 0});
                }
            }
            if (rc != SQLITE_DONE) return errc::storage_error;
            return out;
        });
    }

    // Moves the cursor to `to` if it is at or after `from` and before `to` (a relay that read it
    // at `from` published every event after it up to `to`: moving it from anywhere in between
    // skips nothing, and it never moves back), and deletes the published rows below it once
    // prune_after_ of them are kept; in one transaction that does not wait for the disk. Returns
    // whether the cursor moved.
    auto advance(std::int64_t from, std::int64_t to) -> result<bool> {
        return store_->with_writer([&](sqlite3* db) -> result<bool> {
            const bool full = store_->settings().durability == durability::full;
            if (full && detail::exec_script(db, "PRAGMA synchronous=NORMAL") != SQLITE_OK) return errc::storage_error;
            const auto done = [&](result<bool> r) -> result<bool> {
                if (!r) detail::exec_script(db, "ROLLBACK");
                if (full && detail::exec_script(db, "PRAGMA synchronous=FULL") != SQLITE_OK) return errc::storage_error;
                return r;
            };
            if (detail::exec_script(db, "BEGIN IMMEDIATE") != SQLITE_OK) return done(errc::storage_error);
            detail::statement move(db, "UPDATE outbox_cursor SET last = ?2 WHERE last >= ?1 AND last < ?2");
            if (!move.ok()) return done(errc::storage_error);
            move.bind(1, from);
            move.bind(2, to);
            if (move.exec() != SQLITE_DONE) return done(errc::storage_error);
            const bool moved = sqlite3_changes(db) == 1;
            detail::statement prune(db, "DELETE FROM outbox WHERE id < (SELECT last FROM outbox_cursor) AND "
                                        "(SELECT last FROM outbox_cursor) - (SELECT min(id) FROM outbox) >= ?");
            if (!prune.ok()) return done(errc::storage_error);
            prune.bind(1, static_cast<std::int64_t>(prune_after_));
            if (moved && prune.exec() != SQLITE_DONE) return done(errc::storage_error);
            if (detail::exec_script(db, "COMMIT") != SQLITE_OK) return done(errc::storage_error);
            return done(moved);
        });
    }

    basic_store<Product>* store_;
    std::size_t prune_after_;
};

template <class Product>
basic_outbox(basic_store<Product>&) -> basic_outbox<Product>;
/// The outbox of the default product's store.
using outbox = basic_outbox<allocation::product>;

}  // namespace allocation::sqlite

#endif  // ALLOCATION_ADAPTERS_SQLITE_OUTBOX_HPP
