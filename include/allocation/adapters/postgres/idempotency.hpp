// allocation — PostgreSQL adapter: durable answers to idempotency keys (the example service's
// Idempotency-Key header), kept in the store's database.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_POSTGRES_IDEMPOTENCY_HPP
#define ALLOCATION_ADAPTERS_POSTGRES_IDEMPOTENCY_HPP

#include <memory>       // shared_ptr
#include <optional>     // optional
#include <string>       // string
#include <string_view>  // string_view
#include <utility>      // forward

#include <fmt/format.h>
#include <pqxx/pqxx>

#include <allocation/adapters/postgres/connection.hpp>
#include <allocation/adapters/postgres/store.hpp>
#include <allocation/error.hpp>
#include <allocation/ports/idempotency.hpp>
#include <allocation/try.hpp>

namespace allocation::postgres {

/// An answer kept under an idempotency key (see allocation::idempotency_record).
using idempotency_record = allocation::idempotency_record;

/// Answers by idempotency key in the store's database, surviving restarts and shared by every
/// process on the database. Thread-safe. Each save() is its own transaction.
template <class Product>
class basic_idempotency_keys {
public:
    explicit basic_idempotency_keys(basic_store<Product>& s) noexcept : pool_(s.pool()) {}

    /// The answer kept under `key`, none when the key is new. Errors: errc::storage_error.
    auto find(std::string_view key) -> result<std::optional<idempotency_record>> {
        return run([&](pqxx::connection& c) -> std::optional<idempotency_record> {
            const auto rows = detail::exec(
                c, "SELECT fingerprint, status, body FROM idempotency_keys WHERE key = " + detail::quote(c, key));
            if (rows.empty()) return std::nullopt;
            return idempotency_record{rows[0][0].c_str(), rows[0][1].as<int>(), rows[0][2].c_str()};
        });
    }

    /// Keeps an answer under `key` unless one is kept already (the first answer wins, also
    /// between processes). Returns true when this one was kept; false when the key had an
    /// answer (find() gives it). Errors: errc::storage_error.
    auto save(std::string_view key, std::string_view fingerprint, int status, std::string_view body) -> result<bool> {
        return run([&](pqxx::connection& c) {
            const auto rows = detail::exec(
                c, fmt::format("INSERT INTO idempotency_keys (key, fingerprint, status, body) VALUES ({}, {}, {}, {}) "
                               "ON CONFLICT (key) DO NOTHING RETURNING 1",
                               detail::quote(c, key), detail::quote(c, fingerprint), status, detail::quote(c, body)));
            return !rows.empty();
        });
    }

    /// Forgets the answer under `key`. Errors: errc::storage_error.
    auto erase(std::string_view key) -> result<void> {
        return run([&](pqxx::connection& c) {
            detail::exec(c, "DELETE FROM idempotency_keys WHERE key = " + detail::quote(c, key));
        });
    }

private:
    template <class F>
    auto run(F&& f) {
        return detail::with_connection(*pool_, std::forward<F>(f));
    }

    std::shared_ptr<detail::connection_pool> pool_;
};

template <class Product>
basic_idempotency_keys(basic_store<Product>&) -> basic_idempotency_keys<Product>;
using idempotency_keys = basic_idempotency_keys<allocation::product>;

}  // namespace allocation::postgres

#endif  // ALLOCATION_ADAPTERS_POSTGRES_IDEMPOTENCY_HPP
