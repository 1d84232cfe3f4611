// allocation — durable answers to idempotency keys (the example service's Idempotency-Key
// header), kept in the store's database.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_SQLITE_IDEMPOTENCY_HPP
#define ALLOCATION_ADAPTERS_SQLITE_IDEMPOTENCY_HPP

#include <sqlite3.h>

#include <cstdint>      // int64_t
#include <optional>     // optional
#include <string>       // string
#include <string_view>  // string_view

#include <allocation/adapters/sqlite/codec.hpp>
#include <allocation/adapters/sqlite/connection.hpp>
#include <allocation/adapters/sqlite/store.hpp>
#include <allocation/error.hpp>
#include <allocation/ports/idempotency.hpp>

namespace allocation::sqlite {

/// An answer kept under an idempotency key (see allocation::idempotency_record).
using idempotency_record = allocation::idempotency_record;

/// Answers by idempotency key in the store's database, surviving restarts; shared by every
/// process on the file. Thread-safe. Each save() is its own durable transaction.
template <class Product>
class basic_idempotency_keys {
public:
    explicit basic_idempotency_keys(basic_store<Product>& s) noexcept : store_(&s) {}

    /// The answer kept under `key`, none when the key is new.
    auto find(std::string_view key) -> result<std::optional<idempotency_record>> {
        return store_->with_reader([&](sqlite3* db) -> result<std::optional<idempotency_record>> {
            detail::statement st(db, "SELECT fingerprint, status, body FROM idempotency_keys WHERE key = ?");
            if (!st.ok()) return errc::storage_error;
            st.bind(1, key);
            const int rc = st.step();
            if (rc == SQLITE_DONE) return std::optional<idempotency_record>{};
            if (rc != SQLITE_ROW) return errc::storage_error;
            return std::optional<idempotency_record>(
                idempotency_record{st.text(0), static_cast<int>(st.int64(1)), st.text(2)});
        });
    }

    /// Keeps an answer under `key` unless one is kept already (the first answer wins). Returns
    /// true when this one was kept; false when the key had an answer (find() gives it).
    auto save(std::string_view key, std::string_view fingerprint, int status, std::string_view body)
        -> result<bool> {
        return store_->with_writer([&](sqlite3* db) -> result<bool> {
            detail::statement st(db,
                                 "INSERT OR IGNORE INTO idempotency_keys (key, fingerprint, status, body) "
                                 "VALUES (?, ?, ?, ?)");
            if (!st.ok()) return errc::storage_error;
            st.bind(1, key);
            st.bind(2, fingerprint);
            st.bind(3, std::int64_t{status});
            st.bind(4, body);
            const int rc = st.exec();
            if (rc != SQLITE_DONE) return detail::is_busy(rc) ? errc::conflict : errc::storage_error;
            return sqlite3_changes(db) == 1;
        });
    }

    /// Forgets the answer under `key`.
    auto erase(std::string_view key) -> result<void> {
        return store_->with_writer([&](sqlite3* db) -> result<void> {
            detail::statement st(db, "DELETE FROM idempotency_keys WHERE key = ?");
            if (!st.ok()) return errc::storage_error;
            st.bind(1, key);
            if (st.exec() != SQLITE_DONE) return errc::storage_error;
            return success();
        });
    }

private:
    basic_store<Product>* store_;
};

template <class Product>
basic_idempotency_keys(basic_store<Product>&) -> basic_idempotency_keys<Product>;
using idempotency_keys = basic_idempotency_keys<allocation::product>;

}  // namespace allocation::sqlite

#endif  // ALLOCATION_ADAPTERS_SQLITE_IDEMPOTENCY_HPP
