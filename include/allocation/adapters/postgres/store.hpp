// allocation — PostgreSQL adapter: the store, where units of work, the outbox relay and the read
// model of one database come from.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_POSTGRES_STORE_HPP
#define ALLOCATION_ADAPTERS_POSTGRES_STORE_HPP

#include <cstdint>    // uint64_t
#include <memory>     // shared_ptr, make_shared, unique_ptr, make_unique
#include <optional>   // optional
#include <string>     // string
#include <utility>    // move
#include <vector>     // vector

#include <allocation/adapters/common/store_base.hpp>
#include <allocation/adapters/postgres/connection.hpp>
#include <allocation/adapters/postgres/outbox.hpp>
#include <allocation/adapters/postgres/reader.hpp>
#include <allocation/adapters/postgres/schema.hpp>
#include <allocation/adapters/postgres/unit_of_work.hpp>
#include <allocation/error.hpp>
#include <allocation/ports/product_reader.hpp>
#include <allocation/ports/unit_of_work.hpp>
#include <allocation/try.hpp>

namespace allocation::postgres {

/// Products in a PostgreSQL database (a DATABASE_URL). Thread-safe: units of work may run on
/// any number of threads, each with its own pooled connection, and any number of processes may
/// share the database without overselling (see basic_repository for how). Its reads
/// (product_reader) lock no row. Every product it creates or loads is made by its product factory
/// (makes_products), so a configured strategy is the same in every unit of work and process
/// that sets it. It must outlive its units of work.
/// @tparam Product a basic_product.
template <class Product>
class basic_store : public allocation::detail::store_base<basic_store<Product>, Product> {
public:
    using unit_of_work_type = basic_unit_of_work<Product>;

    /// A store on the database at `url` (a libpq URI or connection string, the service's
    /// DATABASE_URL) that connects on demand; call migrate() before the first unit of work on a
    /// new database, or use open().
    explicit basic_store(std::string url, options opts = {})
        : pool_(std::make_shared<detail::connection_pool>(std::move(url), std::move(opts))) {}

    /// A store on a database brought to the adapter's schema.
    /// Errors: errc::storage_error (the database cannot be reached, or has a newer schema); the
    /// message is put in `error_text` when given.
    static auto open(const std::string& url, options opts = {}, std::string* error_text = nullptr)
        -> result<std::unique_ptr<basic_store>> {
        auto s = std::make_unique<basic_store>(url, std::move(opts));
        if (auto r = s->migrate(); !r) {
            if (error_text != nullptr) *error_text = s->last_error();
            return r.error();
        }
        return s;
    }

    basic_store(const basic_store&) = delete;
    auto operator=(const basic_store&) -> basic_store& = delete;

    /// Creates or upgrades the schema; safe when several processes do it at once.
    /// Errors: errc::storage_error.
    auto migrate() -> result<void> {
        if (auto r = detail::with_connection(*pool_, [](pqxx::connection& c) { detail::migrate<typename Product::traits_type>(c); }); !r) {
            pool_->report(fmt::format("migration failed: {}", pool_->last_error()));
            return errc::storage_error;
        }
        return success();
    }

    /// Starts a unit of work; it takes a connection when it first needs one.
    [[nodiscard]] auto begin() -> unit_of_work_type { return unit_of_work_type(pool_, this->maker()); }

    [[nodiscard]] auto url() const noexcept -> const std::string& { return pool_->url(); }
    [[nodiscard]] auto settings() const noexcept -> const options& { return pool_->settings(); }

    /// The last database error met (SQLSTATE and PostgreSQL's message), for logs.
    [[nodiscard]] auto last_error() const -> std::string { return pool_->last_error(); }

    /// The number of transactions its units of work committed (one per committed unit of work
    /// that began one: each command is its own transaction), and of units of work refused with errc::conflict (a lock wait timed out, a
    /// deadlock, a version that moved, a concurrent insert); the service logs both.
    [[nodiscard]] auto transactions() const noexcept -> std::uint64_t { return pool_->transactions(); }
    [[nodiscard]] auto conflicts() const noexcept -> std::uint64_t { return pool_->conflicts(); }

    /// The connection pool, shared with the outbox and the allocations view.
    [[nodiscard]] auto pool() const noexcept -> const std::shared_ptr<detail::connection_pool>& { return pool_; }

    /// The SKUs of the products with a hold not swept yet whose deadline is at or before `now`
    /// (lists_holding_products), for a sweep. Errors: errc::storage_error.
    auto skus_with_holds_due(timestamp now) -> result<std::vector<typename Product::sku_type>> {
        return reads([&](auto&& r) { return r.skus_with_holds_due(now); });
    }

private:
    friend class allocation::detail::store_base<basic_store, Product>;

    // The reads of committed state run on pooled connections (errc::storage_error).
    template <class F>
    auto reads(F&& f) {
        return std::forward<F>(f)(detail::reader<Product>(*pool_, this->maker()));
    }

    std::shared_ptr<detail::connection_pool> pool_;
};

/// The PostgreSQL store of the default product.
using store = basic_store<allocation::product>;

static_assert(allocation::unit_of_work_factory<store>);
static_assert(allocation::product_reader<store>);
static_assert(allocation::reads_holds<store>);
static_assert(allocation::lists_holding_products<store>);
static_assert(allocation::makes_products<store>);

}  // namespace allocation::postgres

#endif  // ALLOCATION_ADAPTERS_POSTGRES_STORE_HPP
