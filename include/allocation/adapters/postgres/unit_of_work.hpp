// allocation — PostgreSQL adapter: the unit of work, one transaction on one pooled connection.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_POSTGRES_UNIT_OF_WORK_HPP
#define ALLOCATION_ADAPTERS_POSTGRES_UNIT_OF_WORK_HPP

#include <algorithm>    // find_if, sort, unique
#include <cstddef>      // size_t
#include <cstdint>      // uint32_t, uint64_t
#include <exception>    // current_exception
#include <memory>       // shared_ptr, unique_ptr, make_unique
#include <optional>     // optional
#include <string>       // string
#include <string_view>  // string_view
#include <utility>      // move, exchange, pair
#include <vector>       // vector

#include <fmt/format.h>
#include <pqxx/pqxx>

#include <allocation/adapters/postgres/codec.hpp>
#include <allocation/adapters/postgres/connection.hpp>
#include <allocation/adapters/postgres/repository.hpp>
#include <allocation/domain/product.hpp>
#include <allocation/error.hpp>
#include <allocation/ports/inbox.hpp>
#include <allocation/ports/repository.hpp>
#include <allocation/ports/unit_of_work.hpp>
#include <allocation/try.hpp>

namespace allocation::postgres {

/// A unit of work on PostgreSQL: one transaction on one connection of the store's pool, taken
/// at the first get() or add() and given back when the unit of work commits or rolls back.
/// commit() writes what changed in every product (the tracked changes(), not whole products),
/// the products' versions (checked: errc::conflict when one changed underneath) and their
/// events to the outbox, then COMMITs, in one round trip. Not thread-safe: one per thread; the
/// store they come from is thread-safe. Can be used again after commit() or rollback().
template <class Product>
class basic_unit_of_work {
public:
    using product_type = Product;

    /// A unit of work on `pool` whose products are made by `maker` (which must outlive it).
    basic_unit_of_work(std::shared_ptr<detail::connection_pool> pool,
                       const allocation::detail::product_maker<Product>& maker) noexcept
        : products_(std::move(pool), maker) {}
    basic_unit_of_work(const basic_unit_of_work&) = delete;
    auto operator=(const basic_unit_of_work&) -> basic_unit_of_work& = delete;
    ~basic_unit_of_work() { rollback(); }

    [[nodiscard]] auto products() noexcept -> basic_repository<Product>& { return products_; }

    /// Makes every change durable (as durable as the server's synchronous_commit) and visible.
    /// Errors: errc::conflict (a version changed, a lock wait timed out), errc::duplicate_batch
    /// (a batch reference another product has), errc::storage_error; nothing is kept then.
    auto commit() -> result<void> {
        auto& repo = products_;
        if (!repo.in_tx_ && repo.inbox_.empty()) {
            repo.end(true);
            return success();
        }
        ALLOCATION_TRYV(repo.run([&](pqxx::connection& c) {
            detail::prepare_writes(c);
            std::string sql;
            for (const auto& e : repo.entries_) write(c, e, sql);
            for (const auto& [id, text] : repo.inbox_.entries()) detail::record_processed_sql(c, id, text, sql);
            sql += "COMMIT";
            return sql;
        }));
        repo.pool_->note_transaction();
        for (auto& e : repo.entries_) {
            for (auto& ev : e.product->take_events()) events_.push_back(std::move(ev));
            e.product->accept();
        }
        repo.in_tx_ = false;
        repo.end(true);
        return success();
    }

    /// Discards everything not committed. Never fails.
    void rollback() noexcept { products_.end(false); }

    /// The stored result of a message id processed before, or none (see
    /// records_processed_messages). Begins the transaction like get().
    /// Errors: errc::conflict, errc::storage_error.
    auto find_processed(const std::string& id) -> result<std::optional<std::string>> {
        if (auto staged = products_.inbox_.find(id)) return staged;
        ALLOCATION_TRY(rows, products_.run([&](pqxx::connection& c) {
                           return "SELECT result FROM inbox WHERE message_id = " + detail::quote(c, id);
                       }));
        if (rows.empty()) return std::optional<std::string>{};
        return std::optional<std::string>(rows[0][0].c_str());
    }

    /// Records a message id's result, kept by the next commit. That commit fails with
    /// errc::conflict when another unit of work recorded the id first.
    auto record_processed(const std::string& id, std::string text) -> result<void> {
        products_.inbox_.record(id, std::move(text));
        return success();
    }

    /// The events of what was committed so far, each returned once.
    [[nodiscard]] auto collect_new_events() -> std::vector<typename Product::event_type> { return std::exchange(events_, {}); }

private:
    using entry = typename basic_repository<Product>::entry;

    static void write(pqxx::connection& c, const entry& e, std::string& sql) {
        detail::write_product_sql(c, *e.product, e.added, e.added ? e.inserted_version : e.product->checkpoint_version(), sql);
    }

    basic_repository<Product> products_;
    std::vector<typename Product::event_type> events_;
};

using unit_of_work = basic_unit_of_work<allocation::product>;
static_assert(allocation::unit_of_work<unit_of_work>);
static_assert(records_processed_messages<unit_of_work>);

}  // namespace allocation::postgres

#endif  // ALLOCATION_ADAPTERS_POSTGRES_UNIT_OF_WORK_HPP
