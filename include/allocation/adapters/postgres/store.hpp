// allocation — PostgreSQL adapter: the store, where units of work, the outbox relay and the read
// model of one database come from.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_POSTGRES_STORE_HPP
#define ALLOCATION_ADAPTERS_POSTGRES_STORE_HPP

#include <exception>  // current_exception
#include <memory>     // shared_ptr, make_shared
#include <string>     // string
#include <utility>    // move

#include <allocation/adapters/postgres/connection_pool.hpp>
#include <allocation/adapters/postgres/outbox.hpp>
#include <allocation/adapters/postgres/schema.hpp>
#include <allocation/adapters/postgres/unit_of_work.hpp>
#include <allocation/error.hpp>
#include <allocation/ports/unit_of_work.hpp>
#include <allocation/try.hpp>

namespace allocation::postgres {

/// Products in a PostgreSQL database (a DATABASE_URL). Thread-safe: units of work may run on
/// any number of threads, each with its own pooled connection, and any number of processes may
/// share the database without overselling (see repository for how). Copies share the pool.
/// @tparam Product a basic_product.
template <class Product = allocation::product>
class store {
public:
    using product_type = Product;
    using traits_type = typename Product::traits_type;

    /// A store that connects on demand; call migrate() before the first unit of work on a new
    /// database, or use open().
    explicit store(store_options options) : pool_(std::make_shared<detail::connection_pool>(std::move(options))) {}
    explicit store(std::string url) : store(store_options{.url = std::move(url)}) {}

    /// A store on a database brought to the adapter's schema. Errors: errc::storage_error (the
    /// database cannot be reached, or has a newer schema).
    [[nodiscard]] static auto open(store_options options) -> result<store> {
        store s(std::move(options));
        ALLOCATION_TRYV(s.migrate());
        return s;
    }
    [[nodiscard]] static auto open(std::string url) -> result<store> { return open(store_options{.url = std::move(url)}); }

    /// Creates or upgrades the schema; safe when several processes do it at once.
    /// Errors: errc::storage_error.
    auto migrate() -> result<void> {
        ALLOCATION_TRY(conn, pool_->acquire());
        try {
            detail::migrate(*conn);
        } catch (...) {
            auto f = detail::classify(std::current_exception());
            pool_->report(fmt::format("migration failed: {}", f.text));
            pool_->discard(std::move(conn));
            return errc::storage_error;
        }
        pool_->release(std::move(conn));
        return success();
    }

    /// Starts a unit of work; it takes a connection when it first needs one.
    [[nodiscard]] auto begin() -> unit_of_work<Product> { return unit_of_work<Product>(pool_); }

    /// The relay of this database's outbox.
    [[nodiscard]] auto outbox() const -> basic_outbox_relay<traits_type> { return basic_outbox_relay<traits_type>(pool_); }

    /// The connection pool, shared with the allocations view and idempotency store.
    [[nodiscard]] auto pool() const noexcept -> const std::shared_ptr<detail::connection_pool>& { return pool_; }

    [[nodiscard]] auto options() const noexcept -> const store_options& { return pool_->options(); }

private:
    std::shared_ptr<detail::connection_pool> pool_;
};

static_assert(allocation::unit_of_work_factory<store<>>);

}  // namespace allocation::postgres

#endif  // ALLOCATION_ADAPTERS_POSTGRES_STORE_HPP
