// allocation — the SQLite store: products cached in memory (in slots, shared with the
// in-memory store's repository and unit of work) and validated by version, changes written from
// the product's change tracking, concurrent commits of one store grouped into one transaction.
// SPDX-License-Identifier: MIT
//
// How a command runs:
// - get(sku) locks the product's slot in this store (one unit of work of this process holds a
//   product at a time; a second waits up to options::lock_timeout, then errc::conflict), checks
//   the product's version in the database (`SELECT version`, one indexed read) and reloads the
//   product only when another process changed it. A product is never reloaded otherwise: its
//   thousands of allocations stay in memory between commands.
// - commit() queues the unit of work's write set. The first committer to find no leader writes
//   every queued set in one `BEGIN IMMEDIATE ... COMMIT`, each set in its own SAVEPOINT so that
//   one conflicting set fails alone, then wakes the others: one fsync for the whole group.
// - Each set: `UPDATE products SET version = ? WHERE sku = ? AND version = <loaded>` (no row:
//   errc::conflict), then the tracked changes (batches, allocations, the allocations_view read
//   model), the events (outbox) and the inbox records. A product read but not changed has its
//   version checked too, so a read-only answer is never given from a stale product.
// - A failed commit rolls the products back and drops them from the cache; the message bus
//   retries errc::conflict and the retry reloads.
// Two connections per file: a writer (the commit leader, the relay, the idempotency keys) and a
// reader (version checks, loads, inbox and view look-ups), so reads never wait for an fsync.
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
#include <allocation/adapters/common/product_rows.hpp>
#include <allocation/adapters/common/slot_repository.hpp>
#include <allocation/adapters/common/slot_unit_of_work.hpp>
#include <allocation/adapters/sqlite/codec.hpp>
#include <allocation/adapters/sqlite/connection.hpp>
#include <allocation/adapters/sqlite/reader.hpp>
#include <allocation/adapters/sqlite/schema.hpp>
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
class basic_store : public allocation::detail::makes_products_with<Product> {
public:
    using product_type = Product;
    using traits_type = typename Product::traits_type;
    using sku_type = typename Product::sku_type;
    using batch_ref_type = typename Product::batch_ref_type;
    using order_id_type = typename Product::order_id_type;
    using event_type = typename Product::event_type;
    using unit_of_work_type = allocation::detail::slot_unit_of_work<basic_store>;

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

    /// The committed state of a product; none when unknown. Errors: errc::storage_error.
    auto read_product(const sku_type& key) -> result<std::optional<basic_product_state<traits_type>>> {
        return read([&](detail::session& s) { return detail::read_product<Product>(s, key, this->maker()); });
    }
    /// A committed batch; none when no product has it. Errors: errc::storage_error.
    auto read_batch(const batch_ref_type& ref) -> result<std::optional<basic_batch_state<traits_type>>> {
        return read([&](detail::session& s) { return detail::read_batch<traits_type>(s, ref); });
    }
    /// Where an order's lines are allocated, in allocation order. Errors: errc::storage_error.
    auto read_allocations(const order_id_type& order) -> result<std::vector<basic_line_allocation<traits_type>>> {
        return read([&](detail::session& s) { return detail::read_allocations<traits_type>(s, order); });
    }

    /// The stored result of a message id processed before; none when new (the inbox of its units
    /// of work). Errors: errc::storage_error.
    auto find_processed(const std::string& id) -> result<std::optional<std::string>> {
        return read([&](detail::session& s) {
            return detail::query_one(s.inbox_find, std::string_view(id), [](const detail::statement& st) {
                return st.text(0);
            });
        });
    }

    /// The path the store was opened on.
    [[nodiscard]] auto path() const noexcept -> const std::string& { return path_; }
    [[nodiscard]] auto settings() const noexcept -> const options& { return options_; }

    /// The number of commits that failed with errc::conflict (a version changed underneath, a
    /// concurrent insert, a busy database), and of transactions written (one per group).
    [[nodiscard]] auto conflicts() const noexcept -> std::uint64_t { return conflicts_.load(); }
    [[nodiscard]] auto transactions() const noexcept -> std::uint64_t { return transactions_.load(); }

    /// The last SQLite error message met by a commit or a load, for logs.
    [[nodiscard]] auto last_error() const -> std::string {
        const std::lock_guard lock(error_mutex_);
        return last_error_;
    }

    /// Drops every cached product: the next get() of each reloads it.
    void clear_cache() {
        std::unique_lock lock(map_mutex_);
        for (auto& [key, s] : slots_) {
            std::unique_lock held(*s, std::try_to_lock);
            if (held.owns_lock()) s->product.reset();
        }
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
    template <class>
    friend class allocation::detail::slot_repository;
    template <class>
    friend class allocation::detail::slot_unit_of_work;
    // Held by one unit of work at a time. Its product is none when not loaded, or dropped after
    // a failed commit.
    using slot = allocation::detail::slot_of_t<Product>;
    using held_type = allocation::detail::held_products<Product>;
    static constexpr bool drops_on_failure = true;  // the database may hold newer products

    struct commit_request {
        const held_type* set;
        const allocation::detail::staged_inbox* inbox;
        result<void> outcome = success();
        bool done = false;
    };

    basic_store(std::string path, options opts) : path_(std::move(path)), options_(opts) {}

    // Runs a read on the reader session, noting its error.
    template <class F>
    auto read(F&& f) {
        const std::lock_guard lock(reader_->mutex);
        auto out = std::forward<F>(f)(*reader_);
        if (!out) note_error(reader_->db.get());
        return out;
    }

    void note_error(sqlite3* db) {
        const std::lock_guard lock(error_mutex_);
        last_error_ = detail::last_error(db);
    }

    auto find_slot(const sku_type& key) -> slot* {
        std::shared_lock lock(map_mutex_);
        const auto it = slots_.find(key);
        return it == slots_.end() ? nullptr : it->second.get();
    }
    auto make_slot(const sku_type& key) -> slot* {
        std::unique_lock lock(map_mutex_);
        auto& s = slots_[key];
        if (!s) s = std::make_unique<slot>();
        return s.get();
    }

    // The stored version of a product, none when unknown.
    auto stored_version(const sku_type& key) -> result<std::optional<std::uint64_t>> {
        return read([&](detail::session& s) {
            return detail::query_one(s.product_version, detail::id_column(key), [](const detail::statement& st) {
                return static_cast<std::uint64_t>(st.int64(0));
            });
        });
    }

    // -- what slot_repository needs ---------------------------------------------------------
    [[nodiscard]] auto lock_timeout() const noexcept -> std::chrono::milliseconds { return options_.lock_timeout; }
    auto contains(const sku_type& key) -> result<bool> {
        ALLOCATION_TRY(version, stored_version(key));
        return version.has_value();
    }
    auto slot_of(const sku_type& key) -> result<slot*> {
        if (auto* s = find_slot(key)) return s;
        ALLOCATION_TRY(version, stored_version(key));
        if (!version) return static_cast<slot*>(nullptr);
        return make_slot(key);
    }
    // Checks the cached product's version in the database (one indexed read) and reloads it only
    // when another process changed it.
    auto refresh(slot& s, const sku_type& key) -> result<bool> {
        ALLOCATION_TRY(version, stored_version(key));
        if (!version) return false;
        if (!s.product || s.product->version() != *version) {
            ALLOCATION_TRY(loaded, read([&](detail::session& r) { return detail::load<Product>(r, key, this->maker()); }));
            if (!loaded) return false;
            s.product = std::move(loaded);
        }
        return true;
    }
    auto owner_of(const batch_ref_type& ref) -> result<std::optional<sku_type>> {
        {
            std::shared_lock lock(map_mutex_);
            if (const auto it = owners_.find(ref); it != owners_.end()) return std::optional<sku_type>(it->second);
        }
        ALLOCATION_TRY(key, read([&](detail::session& s) {
                           return detail::query_one(s.batch_owner, detail::id_column(ref), [](const detail::statement& st) {
                               return detail::make_id<sku_type>(st.text(0));
                           });
                       }));
        if (key) {
            std::unique_lock lock(map_mutex_);
            owners_.insert_or_assign(ref, *key);
        }
        return key;
    }

    // -- what slot_unit_of_work needs -------------------------------------------------------
    // Writes the set in one transaction grouped with concurrent commits, durably as
    // options::durability says, with the products' events (to the outbox) and the inbox
    // records; then caches the new products. Errors: errc::conflict when a product's version
    // changed underneath, another writer added the same SKU, batch or message id first, or the
    // database stayed locked for the busy timeout; errc::storage_error. Nothing is kept then.
    // Nothing changed, nothing recorded and nothing read: no transaction is needed (a product
    // that was read is checked at commit, so reads alone still need one).
    auto commit_changes(held_type& local, allocation::detail::staged_inbox& inbox) -> result<void> {
        if (local.empty() && inbox.empty()) return success();
        commit_request req{&local, &inbox};
        submit(req);
        if (!req.outcome) {
            if (req.outcome.error() == errc::conflict) conflicts_.fetch_add(1, std::memory_order_relaxed);
            return req.outcome;
        }
        std::vector<std::unique_ptr<Product>> uncached;
        for (auto& p : local.added) {
            {
                std::unique_lock lock(map_mutex_);
                for (const auto& b : p->batches()) owners_.insert_or_assign(b.ref(), p->sku());
            }
            auto* s = make_slot(p->sku());
            const bool locked = s->try_lock();
            if (locked && !s->product) {
                s->product = std::move(*p);
                local.held.push_back(s);  // let go with the held products
            } else {
                if (locked) s->unlock();
                uncached.push_back(std::move(p));  // another unit of work loads it meanwhile
            }
        }
        local.added = std::move(uncached);
        return success();
    }

    // Group commit: queues the request; the first committer without a leader writes the queue.
    void submit(commit_request& req) {
        std::unique_lock lock(queue_mutex_);
        queue_.push_back(&req);
        while (!req.done) {
            if (!leading_) {
                leading_ = true;
                auto group = std::exchange(queue_, {});
                lock.unlock();
                write_group(group);
                lock.lock();
                for (auto* r : group) r->done = true;
                leading_ = false;
                queue_done_.notify_all();
            } else {
                queue_done_.wait(lock);
            }
        }
    }

    // One unit of work's set, in the leader's open transaction.
    static auto write_set(detail::session& s, const commit_request& r) -> result<void> {
        for (auto* slot : r.set->held) {
            ALLOCATION_TRYV(detail::write_held(s, *slot->product));
        }
        for (const auto& p : r.set->added) {
            ALLOCATION_TRYV(detail::write_added(s, *p));
        }
        return detail::write_inbox(s, *r.inbox);
    }

    void write_group(std::vector<commit_request*>& group) {
        const std::lock_guard lock(writer_.mutex);
        auto& s = writer_;
        const auto fail_all = [&](int rc) {
            note_error(s.db.get());
            for (auto* r : group) r->outcome = detail::write_error(rc);
        };
        if (const int rc = s.begin.exec(); rc != SQLITE_DONE) {
            fail_all(rc);
            return;
        }
        const bool single = group.size() == 1;
        std::size_t written = 0;
        for (auto* r : group) {
            if (!single) s.savepoint.exec();
            r->outcome = write_set(s, *r);
            if (!r->outcome) {
                note_error(s.db.get());
                if (!single) {
                    s.rollback_to.exec();
                    s.release.exec();
                }
            } else {
                if (!single) s.release.exec();
                ++written;
            }
        }
        if (written == 0) {
            s.rollback.exec();
            return;
        }
        if (const int rc = s.commit.exec(); rc != SQLITE_DONE) {
            s.rollback.exec();
            fail_all(rc);
            return;
        }
        transactions_.fetch_add(1, std::memory_order_relaxed);
    }

    std::string path_;
    options options_;
    detail::session writer_;
    detail::session reader_storage_;
    detail::session* reader_ = &reader_storage_;

    mutable std::shared_mutex map_mutex_;  // guards the maps, not the products
    std::unordered_map<sku_type, std::unique_ptr<slot>> slots_;
    std::unordered_map<batch_ref_type, sku_type> owners_;

    std::mutex queue_mutex_;
    std::condition_variable queue_done_;
    std::vector<commit_request*> queue_;
    bool leading_ = false;

    std::atomic<std::uint64_t> conflicts_{0};
    std::atomic<std::uint64_t> transactions_{0};
    mutable std::mutex error_mutex_;
    std::string last_error_;
};

/// The SQLite store of the default product.
using store = basic_store<allocation::product>;

static_assert(allocation::unit_of_work_factory<store>);
static_assert(allocation::records_processed_messages<unit_of_work_t<store>>);
static_assert(allocation::product_reader<store>);
static_assert(allocation::makes_products<store>);

}  // namespace allocation::sqlite

#endif  // ALLOCATION_ADAPTERS_SQLITE_STORE_HPP
