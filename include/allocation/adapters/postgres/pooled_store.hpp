// allocation — PostgreSQL adapter: what both PostgreSQL stores share, a connection pool on one
// database, its schema migration and the reads of committed state on pooled connections.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_POSTGRES_POOLED_STORE_HPP
#define ALLOCATION_ADAPTERS_POSTGRES_POOLED_STORE_HPP

#include <memory>   // shared_ptr, make_shared, unique_ptr, make_unique
#include <string>   // string
#include <utility>  // move, forward
#include <vector>   // vector

#include <fmt/format.h>
#include <pqxx/pqxx>

#include <allocation/adapters/common/store_base.hpp>
#include <allocation/adapters/postgres/connection.hpp>
#include <allocation/adapters/postgres/reader.hpp>
#include <allocation/adapters/postgres/schema.hpp>
#include <allocation/error.hpp>
#include <allocation/ports/clock.hpp>

namespace allocation::postgres::detail {

/// The base of a PostgreSQL store (`Derived`, constructible from a URL and options): its pool,
/// open() and migrate(), and the reads of committed state (store_base's `reads`), each on a
/// pooled connection, locking no row.
/// @tparam Derived the store.
/// @tparam Product a basic_product.
template <class Derived, class Product>
class pooled_store : public allocation::detail::store_base<Derived, Product> {
public:
    /// A store on a database brought to the adapter's schema.
    /// Errors: errc::storage_error (the database cannot be reached, or has a newer schema); the
    /// message is put in `error_text` when given.
    static auto open(const std::string& url, options opts = {}, std::string* error_text = nullptr)
        -> result<std::unique_ptr<Derived>> {
        auto s = std::make_unique<Derived>(url, std::move(opts));
        if (auto r = s->migrate(); !r) {
            if (error_text != nullptr) *error_text = s->last_error();
            return r.error();
        }
        return s;
    }

    pooled_store(const pooled_store&) = delete;
    auto operator=(const pooled_store&) -> pooled_store& = delete;

    /// Creates or upgrades the schema; safe when several processes do it at once.
    /// Errors: errc::storage_error.
    auto migrate() -> result<void> {
        if (auto r = with_connection(*pool_, [](pqxx::connection& c) { postgres::detail::migrate<typename Product::traits_type>(c); });
            !r) {
            pool_->report(fmt::format("migration failed: {}", pool_->last_error()));
            return errc::storage_error;
        }
        return success();
    }

    [[nodiscard]] auto url() const noexcept -> const std::string& { return pool_->url(); }
    [[nodiscard]] auto settings() const noexcept -> const options& { return pool_->settings(); }

    /// The last database error met (SQLSTATE and PostgreSQL's message), for logs.
    [[nodiscard]] auto last_error() const -> std::string { return pool_->last_error(); }

    /// The connection pool, shared with the outbox and the allocations view.
    [[nodiscard]] auto pool() const noexcept -> const std::shared_ptr<connection_pool>& { return pool_; }

    /// The SKUs of the products with a hold not swept yet whose deadline is at or before `now`
    /// (lists_holding_products), for a sweep. Errors: errc::storage_error.
    auto skus_with_holds_due(timestamp now) -> result<std::vector<typename Product::sku_type>> {
        return reads([&](auto&& r) { return r.skus_with_holds_due(now); });
    }

protected:
    /// A store on the database at `url` (a libpq URI or connection string, the service's
    /// DATABASE_URL) that connects on demand.
    pooled_store(std::string url, options opts)
        : pool_(std::make_shared<connection_pool>(std::move(url), std::move(opts))) {}
    ~pooled_store() = default;

    // The reads of committed state run on pooled connections (errc::storage_error).
    template <class F>
    auto reads(F&& f) {
        return std::forward<F>(f)(reader<Product>(*pool_, this->maker()));
    }

    std::shared_ptr<connection_pool> pool_;
};

}  // namespace allocation::postgres::detail

#endif  // ALLOCATION_ADAPTERS_POSTGRES_POOLED_STORE_HPP
