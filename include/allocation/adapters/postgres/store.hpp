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

#include <allocation/adapters/postgres/connection.hpp>
#include <allocation/adapters/postgres/outbox.hpp>
#include <allocation/adapters/postgres/pooled_store.hpp>
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
class basic_store : public detail::pooled_store<basic_store<Product>, Product> {
public:
    using unit_of_work_type = basic_unit_of_work<Product>;

    /// A store on the database at `url` (a libpq URI or connection string, the service's
    /// DATABASE_URL) that connects on demand; call migrate() before the first unit of work on a
    /// new database, or use open().
    explicit basic_store(std::string url, options opts = {})
        : detail::pooled_store<basic_store<Product>, Product>(std::move(url), std::move(opts)) {}

    /// Starts a unit of work; it takes a connection when it first needs one.
    [[nodiscard]] auto begin() -> unit_of_work_type { return unit_of_work_type(this->pool_, this->maker()); }

    /// The number of transactions its units of work committed (one per committed unit of work
    /// that began one: each command is its own transaction), and of units of work refused with
    /// errc::conflict (a lock wait timed out, a deadlock, a version that moved, a concurrent
    /// insert); the service logs both.
    [[nodiscard]] auto transactions() const noexcept -> std::uint64_t { return this->pool_->transactions(); }
    [[nodiscard]] auto conflicts() const noexcept -> std::uint64_t { return this->pool_->conflicts(); }

private:
    friend class allocation::detail::store_base<basic_store, Product>;
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
