// allocation — PostgreSQL adapter: the repository, products read and locked in the unit of
// work's transaction on one pooled connection.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_POSTGRES_REPOSITORY_HPP
#define ALLOCATION_ADAPTERS_POSTGRES_REPOSITORY_HPP

#include <cstdint>    // uint64_t
#include <exception>  // current_exception, exception
#include <memory>     // shared_ptr, unique_ptr, make_unique
#include <string>     // string
#include <utility>    // move, exchange
#include <vector>     // vector

#include <fmt/format.h>
#include <pqxx/pqxx>

#include <allocation/adapters/common/inbox.hpp>
#include <allocation/adapters/postgres/codec.hpp>
#include <allocation/adapters/postgres/connection.hpp>
#include <allocation/domain/product.hpp>
#include <allocation/error.hpp>
#include <allocation/ports/repository.hpp>
#include <allocation/try.hpp>

namespace allocation::postgres {

template <class Product>
class basic_unit_of_work;

/// The repository of a postgres::unit_of_work. The first get() or add() of a unit of work takes
/// a connection from the pool and begins a READ COMMITTED transaction.
///
/// Concurrency: get() locks the product's row (SELECT ... FOR UPDATE) before it reads the
/// product's batches and allocations, in a statement of its own, so it reads what the previous
/// holder of the lock committed; the lock is held to the end of the transaction. Two units of
/// work on one SKU, in any number of processes, therefore run one after the other and neither
/// ever decides on stale stock. The commit checks the version as well (optimistic
/// concurrency), and the database refuses any batch whose allocations exceed its quantity.
/// A unit of work that waits longer than options::lock_timeout fails with errc::conflict;
/// units of work that need several products take them in SKU order (the library's handlers do),
/// so they do not deadlock; a deadlock PostgreSQL detects anyway is errc::conflict too.
template <class Product>
class basic_repository {
    using sku_type = typename Product::sku_type;
    static_assert(storable_traits<typename Product::traits_type>,
                  "the PostgreSQL adapter stores integer ids or ids with a text form, and std::chrono dates");

public:
    using product_type = Product;

    /// A repository on `pool` whose products are made by `maker` (which must outlive it).
    basic_repository(std::shared_ptr<detail::connection_pool> pool,
                     const allocation::detail::product_maker<Product>& maker) noexcept
        : pool_(std::move(pool)), maker_(&maker) {}
    basic_repository(const basic_repository&) = delete;
    auto operator=(const basic_repository&) -> basic_repository& = delete;
    ~basic_repository() { end(false); }

    /// Stages a new product: its row is inserted (and locked) at once, the rest at commit.
    /// Errors: errc::duplicate_product (also when another unit of work adds the SKU and commits
    /// first), errc::conflict, errc::storage_error.
    auto add(Product p) -> result<void> {
        if (find_local(p.sku()) != nullptr) return errc::duplicate_product;
        const auto& rule = p.replenishment();
        ALLOCATION_TRY(r, run([&](pqxx::connection& c) {
                           return fmt::format(
                               "INSERT INTO products (sku, version, reorder_point, max_level, multiple) "
                               "VALUES ({}, {}, {}, {}, {}) ON CONFLICT DO NOTHING RETURNING 1",
                               detail::sql(c, p.sku()), p.version(), detail::sql_qty(rule.reorder_point),
                               detail::sql_qty(rule.max_level), detail::sql_qty(rule.multiple));
                       }));
        if (r.empty()) return errc::duplicate_product;
        const auto version = p.version();
        entries_.push_back({std::make_unique<Product>(std::move(p)), true, version});
        return success();
    }

    /// The product of a SKU, locked until the unit of work ends; nullptr when unknown.
    /// Errors: errc::conflict (lock timeout, deadlock), errc::storage_error.
    auto get(const sku_type& key) -> result<Product*> {
        if (auto* p = find_local(key)) return p;
        ALLOCATION_TRY(rows, run([&](pqxx::connection& c) {
                           // Two statements: the second takes a new snapshot after the lock.
                           return fmt::format("SELECT 1 FROM products WHERE sku = {} FOR UPDATE{};\n{}",
                                              detail::sql(c, key),
                                              pool_->settings().lock_timeout.count() == 0 ? " NOWAIT" : "",
                                              detail::product_select(c, key));
                       }));
        if (rows.empty()) return static_cast<Product*>(nullptr);
        auto loaded = decode(key, rows);
        if (!loaded) return fail(loaded.error());
        auto& e = entries_.emplace_back(entry{std::make_unique<Product>(std::move(loaded).value()), false, 0});
        e.product->checkpoint();
        return e.product.get();
    }

    /// The product owning a batch, locked like get(); nullptr when no product has it.
    auto get_by_batch_ref(const typename Product::batch_ref_type& ref) -> result<Product*> {
        for (const auto& e : entries_) {
            if (e.product->find_batch(ref) != nullptr) return e.product.get();
        }
        ALLOCATION_TRY(rows, run([&](pqxx::connection& c) {
                           return fmt::format("SELECT sku FROM batches WHERE ref = {}", detail::sql(c, ref));
                       }));
        if (rows.empty()) return static_cast<Product*>(nullptr);
        return get(detail::read_id<sku_type>(rows[0][0]));
    }

    /// Every product handed out in the current transaction.
    [[nodiscard]] auto seen() const -> std::vector<Product*> {
        std::vector<Product*> out;
        out.reserve(entries_.size());
        for (const auto& e : entries_) out.push_back(e.product.get());
        return out;
    }

private:
    friend class basic_unit_of_work<Product>;

    struct entry {
        std::unique_ptr<Product> product;
        bool added = false;               // inserted by add() in this transaction
        std::uint64_t inserted_version = 0;
    };

    auto find_local(const sku_type& key) const -> Product* {
        for (const auto& e : entries_) {
            if (e.product->sku() == key) return e.product.get();
        }
        return nullptr;
    }

    // Runs the SQL text made by `make(connection)` in the transaction, beginning it first when
    // none is open. Any failure ends the transaction (PostgreSQL aborts it anyway).
    template <class Make>
    auto run(Make&& make) -> result<pqxx::result> {
        if (!conn_) {
            ALLOCATION_TRY(c, pool_->acquire());
            conn_ = std::move(c);
            retired_.clear();
        }
        try {
            auto sql = std::forward<Make>(make)(*conn_);
            if (!in_tx_) {
                sql.insert(0, "BEGIN;\n");
                in_tx_ = true;
            }
            return detail::exec(*conn_, sql);
        } catch (...) {
            return fail(std::current_exception());
        }
    }

    auto fail(const std::exception_ptr& ep) -> std::error_code {
        auto f = detail::classify(ep);
        pool_->report(f.text);
        if (f.code == errc::conflict) pool_->note_conflict();
        if (f.state == detail::aftermath::broken) {
            in_tx_ = false;
            pool_->discard(std::exchange(conn_, nullptr));
        }
        end(false);
        return f.code;
    }
    auto fail(std::error_code ec) -> std::error_code {
        end(false);
        return ec;
    }

    // Ends the transaction: after a commit (`committed`), only the connection goes back; else a
    // ROLLBACK is sent first. The products stay readable until the next transaction begins.
    void end(bool committed) noexcept {
        if (conn_ && in_tx_ && !committed) {
            try {
                detail::exec(*conn_, "ROLLBACK");
            } catch (...) {
                pool_->discard(std::exchange(conn_, nullptr));
            }
        }
        in_tx_ = false;
        if (conn_) pool_->release(std::exchange(conn_, nullptr));
        for (auto& e : entries_) retired_.push_back(std::move(e.product));
        entries_.clear();
        inbox_.clear();
    }

    auto decode(const sku_type& key, const pqxx::result& rows) -> result<Product> {
        try {
            return detail::decode_product<Product>(key, rows, *maker_);
        } catch (const std::exception& e) {
            pool_->report(fmt::format("cannot read product {}: {}", key, e.what()));
            return errc::storage_error;
        }
    }

    std::shared_ptr<detail::connection_pool> pool_;
    const allocation::detail::product_maker<Product>* maker_;
    std::unique_ptr<pqxx::connection> conn_;
    bool in_tx_ = false;
    std::vector<entry> entries_;
    allocation::detail::staged_inbox inbox_;  // (message id, result) to record
    std::vector<std::unique_ptr<Product>> retired_;  // keeps pointers handed out valid a while
};

using repository = basic_repository<allocation::product>;
static_assert(allocation::repository<repository>);

}  // namespace allocation::postgres

#endif  // ALLOCATION_ADAPTERS_POSTGRES_REPOSITORY_HPP
