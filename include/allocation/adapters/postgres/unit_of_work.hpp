// allocation — PostgreSQL adapter: the repository and the unit of work, one transaction on one
// pooled connection.
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
#include <allocation/adapters/postgres/connection_pool.hpp>
#include <allocation/adapters/postgres/outbox.hpp>
#include <allocation/domain/product.hpp>
#include <allocation/error.hpp>
#include <allocation/ports/inbox.hpp>
#include <allocation/ports/repository.hpp>
#include <allocation/ports/unit_of_work.hpp>
#include <allocation/try.hpp>

namespace allocation::postgres {

template <class Product>
class unit_of_work;

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
template <class Product = allocation::product>
class repository {
public:
    using product_type = Product;
    using traits_type = typename Product::traits_type;
    using sku_type = typename Product::sku_type;
    using batch_ref_type = typename Product::batch_ref_type;
    static_assert(storable_traits<traits_type>, "the PostgreSQL adapter stores default_traits-like types");

    explicit repository(std::shared_ptr<detail::connection_pool> pool) noexcept : pool_(std::move(pool)) {}
    repository(const repository&) = delete;
    auto operator=(const repository&) -> repository& = delete;
    ~repository() { end(false); }

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
                           const auto k = detail::sql(c, key);
                           // Two statements: the second takes a new snapshot after the lock.
                           return fmt::format(
                               "SELECT 1 FROM products WHERE sku = {0} FOR UPDATE{1};\n"
                               "SELECT p.version, p.reorder_point, p.max_level, p.multiple, b.ref, b.purchased, "
                               "to_char(b.eta, 'YYYY-MM-DD'), to_char(b.expires, 'YYYY-MM-DD'), a.orderid, a.qty "
                               "FROM products p LEFT JOIN batches b ON b.sku = p.sku "
                               "LEFT JOIN allocations a ON a.batch_ref = b.ref "
                               "WHERE p.sku = {0} ORDER BY b.position, a.id",
                               k, pool_->settings().lock_timeout.count() == 0 ? " NOWAIT" : "");
                       }));
        if (rows.empty()) return static_cast<Product*>(nullptr);
        auto loaded = decode(key, rows);
        if (!loaded) return fail(loaded.error());
        auto& e = entries_.emplace_back(entry{std::make_unique<Product>(std::move(loaded).value()), false, 0});
        e.product->checkpoint();
        return e.product.get();
    }

    /// The product owning a batch, locked like get(); nullptr when no product has it.
    auto get_by_batch_ref(const batch_ref_type& ref) -> result<Product*> {
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
    friend class unit_of_work<Product>;

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
        using traits = traits_type;
        using q = typename traits::quantity_type;
        using batch_type = typename Product::batch_type;
        try {
            const auto& first = rows[0];
            const auto version = first[0].template as<std::uint64_t>();
            basic_replenishment<traits> rule{detail::read_optional_qty<q>(first[1]),
                                             detail::read_optional_qty<q>(first[2]),
                                             detail::read_optional_qty<q>(first[3])};
            std::vector<batch_type> batches;
            std::size_t i = 0;
            while (i < rows.size()) {
                const auto& row = rows[static_cast<pqxx::result::size_type>(i)];
                if (row[4].is_null()) break;  // a product without batches
                const std::string_view ref = row[4].c_str();
                std::vector<typename batch_type::entry> entries;
                std::size_t j = i;
                for (; j < rows.size(); ++j) {
                    const auto& r = rows[static_cast<pqxx::result::size_type>(j)];
                    if (std::string_view(r[4].c_str()) != ref) break;
                    if (!r[8].is_null()) {
                        entries.push_back({detail::read_id<typename traits::order_id_type>(r[8]),
                                           detail::read_qty<q>(r[9])});
                    }
                }
                batches.emplace_back(detail::read_id<batch_ref_type>(row[4]), key, detail::read_qty<q>(row[5]),
                                     detail::read_date(row[6]), detail::read_date(row[7]), std::move(entries));
                i = j;
            }
            return Product(key, std::move(batches), version, std::move(rule));
        } catch (const std::exception& e) {
            pool_->report(fmt::format("cannot read product {}: {}", key.value, e.what()));
            return errc::storage_error;
        }
    }

    std::shared_ptr<detail::connection_pool> pool_;
    std::unique_ptr<pqxx::connection> conn_;
    bool in_tx_ = false;
    std::vector<entry> entries_;
    std::vector<std::pair<std::string, std::string>> inbox_;  // (message id, result) to record
    std::vector<std::unique_ptr<Product>> retired_;  // keeps pointers handed out valid a while
};

/// A unit of work on PostgreSQL: one transaction on one connection of the store's pool, taken
/// at the first get() or add() and given back when the unit of work commits or rolls back.
/// commit() writes what changed in every product (the tracked changes(), not whole products),
/// the products' versions (checked: errc::conflict when one changed underneath) and their
/// events to the outbox, then COMMITs, in one round trip. Not thread-safe: one per thread; the
/// store they come from is thread-safe. Can be used again after commit() or rollback().
template <class Product = allocation::product>
class unit_of_work {
public:
    using product_type = Product;
    using event_type = typename Product::event_type;
    using traits_type = typename Product::traits_type;

    explicit unit_of_work(std::shared_ptr<detail::connection_pool> pool) noexcept : products_(std::move(pool)) {}
    unit_of_work(const unit_of_work&) = delete;
    auto operator=(const unit_of_work&) -> unit_of_work& = delete;
    ~unit_of_work() { rollback(); }

    [[nodiscard]] auto products() noexcept -> repository<Product>& { return products_; }

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
            std::string sql;
            for (const auto& e : repo.entries_) write(c, e, sql);
            for (const auto& [id, text] : repo.inbox_) {
                sql += fmt::format("INSERT INTO inbox (message_id, result) VALUES ({}, {});\n", detail::quote(c, id),
                                   detail::quote(c, text));
            }
            sql += "COMMIT";
            return sql;
        }));
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
        for (const auto& [staged, text] : products_.inbox_) {
            if (staged == id) return std::optional<std::string>(text);
        }
        ALLOCATION_TRY(rows, products_.run([&](pqxx::connection& c) {
                           return "SELECT result FROM inbox WHERE message_id = " + detail::quote(c, id);
                       }));
        if (rows.empty()) return std::optional<std::string>{};
        return std::optional<std::string>(rows[0][0].c_str());
    }

    /// Records a message id's result, kept by the next commit. That commit fails with
    /// errc::conflict when another unit of work recorded the id first.
    auto record_processed(const std::string& id, std::string text) -> result<void> {
        products_.inbox_.emplace_back(id, std::move(text));
        return success();
    }

    /// The events of what was committed so far, each returned once.
    [[nodiscard]] auto collect_new_events() -> std::vector<event_type> { return std::exchange(events_, {}); }

private:
    using entry = typename repository<Product>::entry;
    using change = typename Product::change;

    static void write(pqxx::connection& c, const entry& e, std::string& sql) {
        const Product& p = *e.product;
        const auto sku = detail::sql(c, p.sku());
        const auto batches = p.batches();
        const auto expected = e.added ? e.inserted_version : p.checkpoint_version();
        if (e.added || p.version() != expected || p.replenishment_changed()) {
            const auto& rule = p.replenishment();
            sql += fmt::format("SELECT allocation_save_product({}, {}, {}, {}, {}, {});\n", sku, expected, p.version(),
                               detail::sql_qty(rule.reorder_point), detail::sql_qty(rule.max_level),
                               detail::sql_qty(rule.multiple));
        }
        const auto insert_batch = [&](std::uint32_t i, bool with_allocated) {
            const auto& b = batches[i];
            sql += fmt::format(
                "INSERT INTO batches (ref, sku, position, purchased, allocated, eta, expires) "
                "VALUES ({}, {}, {}, {}, {}, {}, {});\n",
                detail::sql(c, b.ref()), sku, i, detail::sql_qty(b.purchased()),
                with_allocated ? detail::sql_qty(b.allocated()) : std::string("0"), detail::sql_date(b.eta()),
                detail::sql_date(b.expires()));
        };
        const auto insert_allocation = [&](std::uint32_t i, const auto& order, const auto& qty) {
            sql += fmt::format("INSERT INTO allocations (batch_ref, orderid, qty) VALUES ({}, {}, {});\n",
                               detail::sql(c, batches[i].ref()), detail::sql(c, order), detail::sql_qty(qty));
        };
        if (e.added) {
            for (std::uint32_t i = 0; i < batches.size(); ++i) {
                insert_batch(i, true);
                for (const auto& a : batches[i].allocations()) insert_allocation(i, a.order, a.qty);
            }
        } else {
            std::vector<std::uint32_t> touched;
            for (const auto& ch : p.changes()) {
                switch (ch.what) {
                    case change::kind::batch_added:
                        insert_batch(ch.batch, false);
                        break;
                    case change::kind::allocated:
                        insert_allocation(ch.batch, ch.order, ch.qty);
                        break;
                    case change::kind::deallocated:
                        sql += fmt::format("DELETE FROM allocations WHERE batch_ref = {} AND orderid = {};\n",
                                           detail::sql(c, batches[ch.batch].ref()), detail::sql(c, ch.order));
                        break;
                    case change::kind::quantity_changed:
                        break;
                }
                touched.push_back(ch.batch);
            }
            std::sort(touched.begin(), touched.end());
            touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
            // Final quantities only, so the CHECK constraint sees no intermediate state.
            for (const auto i : touched) {
                const auto& b = batches[i];
                sql += fmt::format("UPDATE batches SET purchased = {}, allocated = {} WHERE ref = {};\n",
                                   detail::sql_qty(b.purchased()), detail::sql_qty(b.allocated()),
                                   detail::sql(c, b.ref()));
            }
        }
        sql += detail::outbox_insert<traits_type>(c, p.events());
    }

    repository<Product> products_;
    std::vector<event_type> events_;
};

static_assert(allocation::repository<repository<>>);
static_assert(allocation::unit_of_work<unit_of_work<>>);
static_assert(records_processed_messages<unit_of_work<>>);

}  // namespace allocation::postgres

#endif  // ALLOCATION_ADAPTERS_POSTGRES_UNIT_OF_WORK_HPP
