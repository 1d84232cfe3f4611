// allocation — SQLite adapter: the outbox, events committed with the state change, handed to an
// EventPublisher afterwards by the relay, which marks them sent (at-least-once).
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_SQLITE_OUTBOX_HPP
#define ALLOCATION_ADAPTERS_SQLITE_OUTBOX_HPP

#include <sqlite3.h>

#include <cstddef>  // size_t
#include <cstdint>  // int64_t
#include <span>     // span
#include <vector>   // vector

#include <allocation/adapters/common/outbox_row.hpp>
#include <allocation/adapters/common/relay.hpp>
#include <allocation/adapters/sqlite/codec.hpp>
#include <allocation/adapters/sqlite/connection.hpp>
#include <allocation/adapters/sqlite/store.hpp>
#include <allocation/error.hpp>
#include <allocation/try.hpp>

namespace allocation::sqlite {

/// The outbox of a store: every event a commit wrote, with its stable id (its commit order).
/// relay() publishes the unsent ones in id order and marks them sent; a crash between publishing
/// and marking publishes them again (at-least-once: consumers de-duplicate by id when they
/// must). Run one relay per database at a time; several would publish some events twice.
/// Thread-safe.
template <class Product>
class basic_outbox : public allocation::detail::relaying_outbox<basic_outbox<Product>, typename Product::traits_type> {
    using traits_type = typename Product::traits_type;

public:
    using record = allocation::detail::basic_outbox_record<traits_type>;

    explicit basic_outbox(basic_store<Product>& s) noexcept : store_(&s) {}

    /// Up to `max` events with an id greater than `after`, in id order, sent or not.
    auto read(std::int64_t after = 0, std::size_t max = 1000) -> result<std::vector<record>> {
        return load("SELECT id, channel, orderid, sku, batchref, qty, qty2, eta, reason, sent FROM outbox "
                    "WHERE id > ? ORDER BY id LIMIT ?",
                    after, max);
    }

    /// Up to `max` unsent events, in id order.
    auto unsent(std::size_t max = 1000) -> result<std::vector<record>> {
        return load("SELECT id, channel, orderid, sku, batchref, qty, qty2, eta, reason, sent FROM outbox "
                    "WHERE sent = 0 AND id > ? ORDER BY id LIMIT ?",
                    0, max);
    }

    /// The number of unsent events.
    auto pending() -> result<std::size_t> {
        return store_->with_reader([](sqlite3* db) -> result<std::size_t> {
            detail::statement st(db, "SELECT count(*) FROM outbox WHERE sent = 0");
            if (!st.ok() || st.step() != SQLITE_ROW) return errc::storage_error;
            return static_cast<std::size_t>(st.int64(0));
        });
    }

    /// Gives up to `max` unsent events, oldest first, to `take(std::span<const record>)`, which
    /// returns how many of them it took (the first ones), and marks those sent; returns that
    /// number.
    template <class Take>
    auto take_unsent(std::size_t max, Take&& take) -> result<std::size_t> {
        ALLOCATION_TRY(rows, unsent(max));
        const std::size_t taken = take(std::span<const record>(rows));
        std::vector<std::int64_t> ids;
        ids.reserve(taken);
        for (std::size_t i = 0; i < taken && i < rows.size(); ++i) ids.push_back(rows[i].id);
        ALLOCATION_TRYV(mark_sent(ids));
        return ids.size();
    }

    /// Marks events sent.
    auto mark_sent(const std::vector<std::int64_t>& ids) -> result<void> {
        if (ids.empty()) return success();
        return store_->with_writer([&](sqlite3* db) -> result<void> {
            if (detail::exec_script(db, "BEGIN IMMEDIATE") != SQLITE_OK) return errc::storage_error;
            detail::statement st(db, "UPDATE outbox SET sent = 1 WHERE id = ?");
            bool ok = st.ok();
            for (const auto id : ids) {
                if (!ok) break;
                st.bind(1, id);
                ok = st.exec() == SQLITE_DONE;
            }
            if (!ok || detail::exec_script(db, "COMMIT") != SQLITE_OK) {
                detail::exec_script(db, "ROLLBACK");
                return errc::storage_error;
            }
            return success();
        });
    }

private:
    auto load(const char* sql, std::int64_t after, std::size_t max) -> result<std::vector<record>> {
        return store_->with_reader([&](sqlite3* db) -> result<std::vector<record>> {
            detail::statement st(db, sql);
            if (!st.ok()) return errc::storage_error;
            st.bind(1, after);
            st.bind(2, static_cast<std::int64_t>(max));
            std::vector<record> out;
            int rc = 0;
            while ((rc = st.step()) == SQLITE_ROW) {
                if (auto e = allocation::detail::from_outbox_row(detail::read_outbox_row<traits_type>(st))) {
                    out.push_back({st.int64(0), st.text(1), std::move(*e), st.int64(9) != 0});
                }
            }
            if (rc != SQLITE_DONE) return errc::storage_error;
            return out;
        });
    }

    basic_store<Product>* store_;
};

template <class Product>
basic_outbox(basic_store<Product>&) -> basic_outbox<Product>;
/// The outbox of the default product's store.
using outbox = basic_outbox<allocation::product>;

}  // namespace allocation::sqlite

#endif  // ALLOCATION_ADAPTERS_SQLITE_OUTBOX_HPP
