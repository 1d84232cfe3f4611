// allocation — the SQLite store: products cached in memory (in slots, shared with the
// in-memory store's repository and unit of work) and validated by version, changes written from
// the product's change tracking, concurrent commits of one store grouped into one transaction.
// SPDX-License-Identifier: MIT
//
// How a command runs:
// - get(sku) locks the product's slot in this store (one unit of work of this process holds a
//   product at a time; a second waits up to options::lock_timeout, then errc::conflict). A product
//   with no commit in flight has its version checked in the database (`SELECT version`, one
//   indexed read) and is reloaded only when another process changed it; one with commits in
//   flight is ahead of the database and taken as it is. A product is never reloaded otherwise:
//   its thousands of allocations stay in memory between commands.
// - commit() records the unit of work's writes, queues them under the next ticket and lets the
//   products go at once (early lock release): the next command on a hot product runs while this
//   one waits for the disk. The first waiter to find no leader writes every queued set in ticket
//   order in one `BEGIN IMMEDIATE ... COMMIT`, each set in its own SAVEPOINT so that one failing
//   set fails alone, then wakes the commits it wrote (and one next leader): one fsync for the
//   whole group, and each command is answered only once the transaction holding it is durable
//   (acknowledged means durable).
// - Each set: `UPDATE products SET version = ? WHERE sku = ? AND version = <loaded>` (no row:
//   errc::conflict), then the tracked changes (batches, allocations: the allocations_view read
//   model is a view of them), the events (outbox) and the inbox records. A product read but not changed has its
//   version checked too, so a read-only answer is never given from a stale product.
// - A set that fails makes its products stale (their slot's generation moves on): every later
//   set made from them fails with errc::conflict without being written, whatever the versions
//   say (another process may have written the same version number meanwhile), and their next
//   get() reloads them. An answer that commits nothing (a refusal) is given only once the
//   commits it saw are durable (slot_unit_of_work::settle(), which the message bus calls). The
//   message bus retries errc::conflict and the retry reloads.
// Two connections per file: a writer (the commit leader, the relay) and a
// reader (version checks, loads, inbox and allocation look-ups), so reads never wait for an fsync.
// Other processes may open the same file: SQLite's write lock serialises their transactions
// (they wait up to options::busy_timeout) and the version check keeps their products apart.
#ifndef ALLOCATION_ADAPTERS_SQLITE_STORE_HPP
#define ALLOCATION_ADAPTERS_SQLITE_STORE_HPP

#include <sqlite3.h>

#include <atomic>              // atomic
#include <chrono>              // milliseconds
#include <condition_variable>  // condition_variable
#include <cstdint>             // uint64_t
#include <memory>              // unique_ptr, make_unique
#include <mutex>               // mutex, unique_lock, lock_guard
#include <optional>            // optional
#include <shared_mutex>        // shared_mutex, shared_lock
#include <string>              // string
#include <string_view>         // string_view
#include <unordered_map>       // unordered_map
#include <utility>             // move, exchange
#include <vector>              // vector

#include <allocation/adapters/common/inbox.hpp>
#include <allocation/adapters/common/store_base.hpp>
#include <allocation/adapters/common/slot_repository.hpp>
#include <allocation/adapters/common/slot_unit_of_work.hpp>
#include <allocation/adapters/sqlite/codec.hpp>
#include <allocation/adapters/sqlite/connection.hpp>
#include <allocation/adapters/sqlite/reader.hpp>
#include <allocation/adapters/sqlite/repository.hpp>
#include <allocation/adapters/sqlite/schema.hpp>
#include <allocation/adapters/sqlite/unit_of_work.hpp>
#include <allocation/domain/product.hpp>
#include <allocation/error.hpp>
#include <allocation/ports/inbox.hpp>
#include <allocation/ports/product_reader.hpp>
#include <allocation/ports/unit_of_work.hpp>
#include <allocation/try.hpp>

namespace allocation::sqlite {

/// How a store opens its database.
struct options {
    /// When a commit is acknowledged; see durability.
    sqlite::durability durability = durability::full;
    /// How long a transaction waits for another process's write lock before errc::conflict.
    std::chrono::milliseconds busy_timeout{5000};
    /// How long a unit of work waits for a product held by another unit of work of the same
    /// store before errc::conflict.
    std::chrono::milliseconds lock_timeout{1000};
};

namespace detail {

/// Opens a connection with the settings of `opts`.
inline auto open_connection(const std::string& path, const options& opts, bool create) -> result<connection> {
    sqlite3* raw = nullptr;
    const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX |
                      SQLITE_OPEN_URI;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    connection db(raw);
    if (rc != SQLITE_OK) return errc::storage_error;
    sqlite3_extended_result_codes(raw, 1);
    ALLOCATION_TRYV(schema::configure(raw, opts.durability, static_cast<int>(opts.busy_timeout.count())));
    return db;
}

}  // namespace detail

/// A product store on one SQLite database file, shared by every unit of work started from it on
/// any thread (and by other processes opening the same file). Creates and migrates the schema.
/// Open it with open(); it cannot be copied or moved (units of work point to it). Its units of
/// work have an inbox (records_processed_messages); its reads (product_reader) run on the
/// reader connection and never hold a product. Every product it creates or reloads is made by its
/// product factory (makes_products), so a configured strategy survives a reload.
/// @tparam Product a basic_product whose traits have string identifiers and
///         std::chrono::year_month_day dates (the default traits do).
template <class Product>
class basic_store : public allocation::detail::store_base<basic_store<Product>, Product>,
                    public detail::product_cache<basic_store<Product>, Product>,
                    public allocation::detail::group_commit<basic_store<Product>, Product, detail::write_set>,
                    public detail::batch_writer<basic_store<Product>, Product> {
public:
    using unit_of_work_type = allocation::detail::slot_unit_of_work<basic_store>;
    /// A unit of work's products are let go as soon as its commit is queued (see group_commit).
    static constexpr bool releases_early = true;

    /// Opens (creating when absent) the database at `path` (a file path, `:memory:` or an SQLite
    /// URI), switches it to WAL and migrates its schema.
    /// Errors: errc::storage_error (the message is put in `error_text` when given).
    static auto open(const std::string& path, options opts = {}, std::string* error_text = nullptr)
        -> result<std::unique_ptr<basic_store>> {
        std::unique_ptr<basic_store> s(new basic_store(path, opts));
        auto fail = [&](std::string_view what) -> result<std::unique_ptr<basic_store>> {
            if (error_text != nullptr) {
                *error_text = fmt::format("{}: {}", what, detail::last_error(s->writer_.db.get()));
            }
            return errc::storage_error;
        };
        auto w = detail::open_connection(path, opts, true);
        if (!w) {
            if (error_text != nullptr) *error_text = fmt::format("cannot open {}", path);
            return w.error();
        }
        s->writer_.db = std::move(w).value();
        if (!schema::migrate<typename Product::traits_type>(s->writer_.db.get())) return fail("schema migration failed");
        if (!s->writer_.prepare()) return fail("preparing statements failed");
        const bool in_memory = path == ":memory:" || path.empty() || path.find("mode=memory") != std::string::npos;
        if (in_memory) {
            s->reader_ = &s->writer_;
        } else {
            auto r = detail::open_connection(path, opts, false);
            if (!r) return fail("cannot open the reader connection");
            s->reader_storage_.db = std::move(r).value();
            if (!s->reader_storage_.prepare()) return fail("preparing statements failed");
            s->reader_ = &s->reader_storage_;
        }
        return s;
    }

    basic_store(const basic_store&) = delete;
    auto operator=(const basic_store&) -> basic_store& = delete;

    /// Starts a unit of work.
    [[nodiscard]] auto begin() -> unit_of_work_type { return unit_of_work_type(*this); }

    /// The stored result of a message id processed before; none when new (the inbox of its units
    /// of work). Errors: errc::storage_error.
    auto find_processed(const std::string& id) -> result<std::optional<std::string>> {
        return read([&](detail::session& s) {
            return detail::query_one(s.inbox_find, std::string_view(id), [](const detail::statement& st) {
                return st.text(0);
            });
        });
    }

    /// The SKUs of the products with a hold not swept yet whose deadline is at or before `now`
    /// (lists_holding_products), for a sweep. Errors: errc::storage_error.
    auto skus_with_holds_due(timestamp now) -> result<std::vector<typename Product::sku_type>> {
        return reads([&](auto&& r) { return r.skus_with_holds_due(now); });
    }

    /// The path the store was opened on.
    [[nodiscard]] auto path() const noexcept -> const std::string& { return path_; }
    [[nodiscard]] auto settings() const noexcept -> const options& { return options_; }

    /// The last SQLite error message met by a commit or a load, for logs.
    [[nodiscard]] auto last_error() const -> std::string {
        const std::lock_guard lock(error_mutex_);
        return last_error_;
    }

    /// Runs `f(sqlite3*)` on the writer connection, alone; for the adapter's outbox and for
    /// tests that look at the tables.
    template <class F>
    auto with_writer(F&& f) {
        const std::lock_guard lock(writer_.mutex);
        return std::forward<F>(f)(writer_.db.get());
    }
    /// Runs `f(sqlite3*)` on the reader connection, alone.
    template <class F>
    auto with_reader(F&& f) {
        const std::lock_guard lock(reader_->mutex);
        return std::forward<F>(f)(reader_->db.get());
    }

private:
    friend class allocation::detail::store_base<basic_store, Product>;
    friend class detail::product_cache<basic_store, Product>;
    friend class allocation::detail::group_commit<basic_store, Product, detail::write_set>;
    friend class detail::batch_writer<basic_store, Product>;
    using detail::batch_writer<basic_store, Product>::record_writes;
    using detail::batch_writer<basic_store, Product>::write_batch;
    template <class>
    friend class allocation::detail::slot_repository;
    template <class>
    friend class allocation::detail::slot_unit_of_work;
    static constexpr bool drops_on_failure = true;  // the database may hold newer products

    basic_store(std::string path, options opts) : path_(std::move(path)), options_(opts) {}

    // Runs a read on the reader session, noting its error.
    template <class F>
    auto read(F&& f) {
        const std::lock_guard lock(reader_->mutex);
        auto out = std::forward<F>(f)(*reader_);
        if (!out) note_error(reader_->db.get());
        return out;
    }

    // The reads of committed state run on the reader session (errc::storage_error).
    template <class F>
    auto reads(F&& f) {
        return read([&](detail::session& s) { return std::forward<F>(f)(detail::reader<Product>(s, this->maker())); });
    }

    void note_error(sqlite3* db) {
        const std::lock_guard lock(error_mutex_);
        last_error_ = detail::last_error(db);
    }

    [[nodiscard]] auto lock_timeout() const noexcept -> std::chrono::milliseconds { return options_.lock_timeout; }
    [[nodiscard]] auto writer() noexcept -> detail::session& { return writer_; }

    std::string path_;
    options options_;
    detail::session writer_;
    detail::session reader_storage_;
    detail::session* reader_ = &reader_storage_;

    mutable std::mutex error_mutex_;
    std::string last_error_;
};

/// The SQLite store of the default product.
using store = basic_store<allocation::product>;

/// The repository of an SQLite unit of work (see allocation::detail::slot_repository): get()
/// holds the product's slot in this store, checks its version in the database and reloads it
/// only when another process changed it.
template <class Product>
using basic_repository = allocation::detail::slot_repository<basic_store<Product>>;
using repository = basic_repository<allocation::product>;

/// A unit of work over an SQLite store (see allocation::detail::slot_unit_of_work): commit()
/// writes what changed, or fails changing nothing; rollback() (also on destruction without
/// commit) undoes the changes exactly. It can be used again after either. It has an inbox
/// (records_processed_messages).
template <class Product>
using basic_unit_of_work = allocation::detail::slot_unit_of_work<basic_store<Product>>;
using unit_of_work = basic_unit_of_work<allocation::product>;

static_assert(allocation::unit_of_work_factory<store>);
static_assert(allocation::repository<repository>);
static_assert(allocation::unit_of_work<unit_of_work>);
static_assert(allocation::records_processed_messages<unit_of_work>);
static_assert(allocation::product_reader<store>);
static_assert(allocation::reads_holds<store>);
static_assert(allocation::lists_holding_products<store>);
static_assert(allocation::makes_products<store>);

}  // namespace allocation::sqlite

#endif  // ALLOCATION_ADAPTERS_SQLITE_STORE_HPP
