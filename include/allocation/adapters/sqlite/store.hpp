// allocation — the SQLite store, repository and unit of work: products cached in memory and
// validated by version, changes written from the product's change tracking, concurrent commits
// of one store grouped into one transaction (group commit).
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
#include <cstdint>             // int64_t, uint64_t
#include <memory>              // unique_ptr, make_unique
#include <mutex>               // mutex, unique_lock, lock_guard
#include <optional>            // optional
#include <shared_mutex>        // shared_mutex, shared_lock
#include <string>              // string
#include <string_view>         // string_view
#include <unordered_map>       // unordered_map
#include <utility>             // move, exchange, pair
#include <variant>             // visit
#include <vector>              // vector

#include <allocation/adapters/sqlite/detail.hpp>
#include <allocation/adapters/sqlite/schema.hpp>
#include <allocation/detail/held_products.hpp>
#include <allocation/detail/product_slot.hpp>
#include <allocation/domain/events.hpp>
#include <allocation/domain/product.hpp>
#include <allocation/error.hpp>
#include <allocation/ports/inbox.hpp>
#include <allocation/ports/repository.hpp>
#include <allocation/ports/unit_of_work.hpp>

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

template <class Product>
class store;
template <class Product>
class repository;
template <class Product>
class unit_of_work;

namespace detail {

/// One connection with its prepared statements; used under `mutex`.
struct session {
    connection db;
    std::mutex mutex;
    // reads
    statement product_version;
    statement product_row;
    statement product_batches;
    statement product_allocations;
    statement batch_owner;
    statement inbox_find;
    statement view_get;
    // writes
    statement begin, commit, rollback, savepoint, release, rollback_to;
    statement read_begin, read_end;
    statement update_product;
    statement insert_product;
    statement insert_batch;
    statement update_batch_qty;
    statement insert_allocation;
    statement delete_allocation;
    statement insert_view;
    statement delete_view;
    statement insert_event;
    statement insert_inbox;

    auto prepare() -> bool {
        sqlite3* d = db.get();
        const std::pair<statement*, const char*> all[] = {
            {&product_version, "SELECT version FROM products WHERE sku = ?"},
            {&product_row, "SELECT version, reorder_point, max_level, multiple FROM products WHERE sku = ?"},
            {&product_batches, "SELECT ref, purchased, eta, expires FROM batches WHERE sku = ? ORDER BY position"},
            {&product_allocations,
             "SELECT a.batch_ref, a.orderid, a.qty FROM batches b JOIN allocations a ON a.batch_ref = b.ref "
             "WHERE b.sku = ? ORDER BY b.position, a.id"},
            {&batch_owner, "SELECT sku FROM batches WHERE ref = ?"},
            {&inbox_find, "SELECT result FROM inbox WHERE message_id = ?"},
            {&view_get, "SELECT sku, batchref FROM allocations_view WHERE orderid = ? ORDER BY rowid"},
            {&begin, "BEGIN IMMEDIATE"},
            {&commit, "COMMIT"},
            {&rollback, "ROLLBACK"},
            {&savepoint, "SAVEPOINT unit"},
            {&release, "RELEASE unit"},
            {&rollback_to, "ROLLBACK TO unit"},
            {&read_begin, "BEGIN"},
            {&read_end, "COMMIT"},
            {&update_product,
             "UPDATE products SET version = ?, reorder_point = ?, max_level = ?, multiple = ? "
             "WHERE sku = ? AND version = ?"},
            {&insert_product,
             "INSERT INTO products (sku, version, reorder_point, max_level, multiple) VALUES (?, ?, ?, ?, ?)"},
            {&insert_batch,
             "INSERT INTO batches (ref, sku, purchased, eta, expires, position) VALUES (?, ?, ?, ?, ?, ?)"},
            {&update_batch_qty, "UPDATE batches SET purchased = ? WHERE ref = ?"},
            {&insert_allocation, "INSERT INTO allocations (batch_ref, orderid, qty) VALUES (?, ?, ?)"},
            {&delete_allocation, "DELETE FROM allocations WHERE batch_ref = ? AND orderid = ?"},
            {&insert_view, "INSERT OR IGNORE INTO allocations_view (orderid, sku, batchref) VALUES (?, ?, ?)"},
            {&delete_view, "DELETE FROM allocations_view WHERE orderid = ? AND sku = ? AND batchref = ?"},
            {&insert_event,
             "INSERT INTO outbox (channel, orderid, sku, batchref, qty, qty2, eta, reason) "
             "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"},
            {&insert_inbox, "INSERT INTO inbox (message_id, result) VALUES (?, ?)"},
        };
        for (const auto& [stmt, sql] : all) {
            *stmt = statement(d, sql);
            if (!stmt->ok()) return false;
        }
        return true;
    }
};

/// Maps an SQLite result code met while writing: a busy database or a constraint violation
/// (another writer added the same SKU, batch or message id first) is a conflict.
[[nodiscard]] inline auto write_error(int rc) noexcept -> std::error_code {
    if (is_busy(rc) || (rc & 0xff) == SQLITE_CONSTRAINT) return errc::conflict;
    return errc::storage_error;
}

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
/// Open it with open(); it cannot be copied or moved (units of work point to it).
/// @tparam Product a basic_product whose traits have string identifiers and
///         std::chrono::year_month_day dates (the default traits do).
template <class Product = allocation::product>
class store {
public:
    using product_type = Product;
    using traits_type = typename Product::traits_type;
    using sku_type = typename Product::sku_type;
    using batch_ref_type = typename Product::batch_ref_type;
    using event_type = typename Product::event_type;

    /// Opens (creating when absent) the database at `path` (a file path, `:memory:` or an SQLite
    /// URI), switches it to WAL and migrates its schema.
    /// Errors: errc::storage_error (see last_error() of nothing: the message is in `error_text`).
    static auto open(const std::string& path, options opts = {}, std::string* error_text = nullptr)
        -> result<std::unique_ptr<store>> {
        std::unique_ptr<store> s(new store(path, opts));
        auto fail = [&](std::string_view what) -> result<std::unique_ptr<store>> {
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
        if (!schema::migrate(s->writer_.db.get())) return fail("schema migration failed");
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

    store(const store&) = delete;
    auto operator=(const store&) -> store& = delete;

    /// Starts a unit of work.
    [[nodiscard]] auto begin() -> unit_of_work<Product> { return unit_of_work<Product>(*this); }

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

    /// Runs `f(sqlite3*)` on the writer connection, alone; for the adapter's outbox,
    /// allocations_view and idempotency keys, and for tests that look at the tables.
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
    /// Runs `f(detail::session&)` on the reader session, alone (its prepared statements).
    template <class F>
    auto with_reader_session(F&& f) {
        const std::lock_guard lock(reader_->mutex);
        return std::forward<F>(f)(*reader_);
    }

private:
    friend class repository<Product>;
    friend class unit_of_work<Product>;

    // Held by one unit of work at a time. Its product is none when not loaded, or dropped after
    // a failed commit.
    using slot = allocation::detail::product_slot<std::optional<Product>>;

    struct commit_request {
        unit_of_work<Product>* uow;
        result<void> outcome = success();
        bool done = false;
    };

    store(std::string path, options opts) : path_(std::move(path)), options_(opts) {}

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
    auto cached_owner(const batch_ref_type& ref) -> std::optional<sku_type> {
        std::shared_lock lock(map_mutex_);
        const auto it = owners_.find(ref);
        if (it == owners_.end()) return std::nullopt;
        return it->second;
    }
    void remember_owner(const batch_ref_type& ref, const sku_type& key) {
        std::unique_lock lock(map_mutex_);
        owners_.insert_or_assign(ref, key);
    }

    // The stored version of a product, none when unknown.
    auto stored_version(const sku_type& key) -> result<std::optional<std::uint64_t>> {
        const std::lock_guard lock(reader_->mutex);
        auto& st = reader_->product_version;
        st.bind(1, detail::id_text(key));
        const int rc = st.step();
        std::optional<std::uint64_t> out;
        if (rc == SQLITE_ROW) out = static_cast<std::uint64_t>(st.int64(0));
        st.reset();
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            note_error(reader_->db.get());
            return errc::storage_error;
        }
        return out;
    }

    // Loads a product in one read transaction; none when unknown.
    auto load(const sku_type& key) -> result<std::optional<Product>> {
        using batch_type = typename Product::batch_type;
        using entry = typename batch_type::entry;
        using quantity_type = typename Product::quantity_type;
        using date_type = typename Product::date_type;
        using order_id_type = typename Product::order_id_type;
        const std::lock_guard lock(reader_->mutex);
        auto& s = *reader_;
        const auto fail = [&]() -> result<std::optional<Product>> {
            note_error(s.db.get());
            s.product_row.reset();
            s.product_batches.reset();
            s.product_allocations.reset();
            s.read_end.exec();
            return errc::storage_error;
        };
        if (s.read_begin.exec() != SQLITE_DONE) return fail();
        const auto text = detail::id_text(key);
        s.product_row.bind(1, text);
        int rc = s.product_row.step();
        if (rc == SQLITE_DONE) {
            s.product_row.reset();
            s.read_end.exec();
            return std::optional<Product>{};
        }
        if (rc != SQLITE_ROW) return fail();
        const auto version = static_cast<std::uint64_t>(s.product_row.int64(0));
        typename Product::replenishment_type rule{
            detail::make_optional_qty<quantity_type>(s.product_row.optional_int64(1)),
            detail::make_optional_qty<quantity_type>(s.product_row.optional_int64(2)),
            detail::make_optional_qty<quantity_type>(s.product_row.optional_int64(3))};
        s.product_row.reset();

        struct raw_batch {
            std::string ref;
            std::int64_t purchased;
            std::optional<std::string> eta, expires;
            std::vector<entry> entries;
        };
        std::vector<raw_batch> raws;
        std::unordered_map<std::string, std::size_t> index;
        s.product_batches.bind(1, text);
        while ((rc = s.product_batches.step()) == SQLITE_ROW) {
            index.emplace(s.product_batches.text(0), raws.size());
            raws.push_back({s.product_batches.text(0), s.product_batches.int64(1),
                            s.product_batches.optional_text(2), s.product_batches.optional_text(3), {}});
        }
        s.product_batches.reset();
        if (rc != SQLITE_DONE) return fail();
        s.product_allocations.bind(1, text);
        while ((rc = s.product_allocations.step()) == SQLITE_ROW) {
            const auto it = index.find(s.product_allocations.text(0));
            if (it == index.end()) continue;
            raws[it->second].entries.push_back(
                {detail::make_id<order_id_type>(s.product_allocations.text(1)),
                 allocation::detail::make_quantity<quantity_type>(s.product_allocations.int64(2))});
        }
        s.product_allocations.reset();
        if (rc != SQLITE_DONE) return fail();
        if (s.read_end.exec() != SQLITE_DONE) return fail();

        const auto date_of = [](const std::optional<std::string>& t) -> std::optional<date_type> {
            if (!t) return std::nullopt;
            return detail::parse_date(*t);
        };
        std::vector<batch_type> batches;
        batches.reserve(raws.size());
        for (auto& r : raws) {
            batches.emplace_back(detail::make_id<batch_ref_type>(std::move(r.ref)), key,
                                 allocation::detail::make_quantity<quantity_type>(r.purchased), date_of(r.eta),
                                 date_of(r.expires), std::move(r.entries));
        }
        return std::optional<Product>(std::in_place, key, std::move(batches), version, std::move(rule));
    }

    auto find_owner(const batch_ref_type& ref) -> result<std::optional<sku_type>> {
        if (auto key = cached_owner(ref)) return key;
        const std::lock_guard lock(reader_->mutex);
        auto& st = reader_->batch_owner;
        st.bind(1, detail::id_text(ref));
        const int rc = st.step();
        std::optional<sku_type> out;
        if (rc == SQLITE_ROW) out = detail::make_id<sku_type>(st.text(0));
        st.reset();
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            note_error(reader_->db.get());
            return errc::storage_error;
        }
        if (out) {
            std::unique_lock map_lock(map_mutex_);
            owners_.insert_or_assign(ref, *out);
        }
        return out;
    }

    auto find_processed(const std::string& id) -> result<std::optional<std::string>> {
        const std::lock_guard lock(reader_->mutex);
        auto& st = reader_->inbox_find;
        st.bind(1, std::string_view(id));
        const int rc = st.step();
        std::optional<std::string> out;
        if (rc == SQLITE_ROW) out = st.text(0);
        st.reset();
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            note_error(reader_->db.get());
            return errc::storage_error;
        }
        return out;
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
            r->outcome = r->uow->write(s);
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

/// The repository of a sqlite::unit_of_work: products of the store, each held until the unit
/// of work ends.
template <class Product = allocation::product>
class repository {
public:
    using product_type = Product;
    using sku_type = typename Product::sku_type;
    using batch_ref_type = typename Product::batch_ref_type;

    explicit repository(store<Product>& s) noexcept : store_(&s) {}
    repository(const repository&) = delete;
    auto operator=(const repository&) -> repository& = delete;
    ~repository() { release(false); }

    /// Stages a new product, written at commit. Errors: errc::duplicate_product when the SKU is
    /// known; errc::storage_error.
    auto add(Product p) -> result<void> {
        if (local_.find(p.sku()) != nullptr) return errc::duplicate_product;
        ALLOCATION_TRY(stored, store_->stored_version(p.sku()));
        if (stored) return errc::duplicate_product;
        local_.added.push_back(std::make_unique<Product>(std::move(p)));
        return success();
    }

    /// The product of a SKU, held until the unit of work ends; nullptr when unknown.
    /// Errors: errc::conflict when another unit of work of the store held it for the whole lock
    /// timeout; errc::storage_error.
    auto get(const sku_type& key) -> result<Product*> {
        if (auto* p = local_.find(key)) return p;
        auto* s = store_->find_slot(key);
        if (s == nullptr) {
            ALLOCATION_TRY(version, store_->stored_version(key));
            if (!version) return static_cast<Product*>(nullptr);
            s = store_->make_slot(key);
        }
        if (!s->try_lock_for(store_->options_.lock_timeout)) return errc::conflict;
        std::unique_lock held(*s, std::adopt_lock);
        ALLOCATION_TRY(version, store_->stored_version(key));
        if (!version) return static_cast<Product*>(nullptr);
        if (!s->product || s->product->version() != *version) {
            ALLOCATION_TRY(loaded, store_->load(key));
            if (!loaded) return static_cast<Product*>(nullptr);
            s->product = std::move(loaded);
        }
        s->product->checkpoint();
        local_.held.push_back(s);
        held.release();
        return &*s->product;
    }

    /// The product owning a batch; nullptr when no product has it.
    auto get_by_batch_ref(const batch_ref_type& ref) -> result<Product*> {
        if (auto* p = local_.owner_of(ref)) return p;
        ALLOCATION_TRY(key, store_->find_owner(ref));
        if (!key) return static_cast<Product*>(nullptr);
        return get(*key);
    }

    /// Every product handed out by this repository.
    [[nodiscard]] auto seen() const -> std::vector<Product*> { return local_.all(); }

private:
    friend class unit_of_work<Product>;
    using slot = typename store<Product>::slot;

    // Keeps (after a commit) or undoes the held products' changes and lets them go. `drop`:
    // the commit failed, the cached products may be stale.
    void release(bool keep, bool drop = false) noexcept {
        for (auto* s : local_.held) {
            if (keep) {
                s->product->accept();
            } else {
                s->product->rollback();
                if (drop) s->product.reset();
            }
            s->unlock();
        }
        local_.clear();
    }

    store<Product>* store_;
    allocation::detail::held_products<Product, slot> local_;
};

/// A unit of work over a sqlite::store. Products it gets are changed in memory and held;
/// commit() writes what changed in one transaction (grouped with concurrent commits of the same
/// store) and keeps it, or fails changing nothing; rollback() (also on destruction without
/// commit) undoes the changes exactly. It can be used again after either. It has an inbox
/// (records_processed_messages).
template <class Product = allocation::product>
class unit_of_work {
public:
    using product_type = Product;
    using event_type = typename Product::event_type;
    using traits_type = typename Product::traits_type;

    explicit unit_of_work(store<Product>& s) noexcept : store_(&s), products_(s) {}
    unit_of_work(const unit_of_work&) = delete;
    auto operator=(const unit_of_work&) -> unit_of_work& = delete;
    ~unit_of_work() { rollback(); }

    [[nodiscard]] auto products() noexcept -> repository<Product>& { return products_; }

    /// Writes every change, durably as options::durability says, with the products' events (to
    /// the outbox) and the recorded message ids. Errors: errc::conflict when a product's version
    /// changed underneath, another writer added the same SKU, batch or message id first, or the
    /// database stayed locked for the busy timeout; errc::storage_error. Nothing is kept then.
    auto commit() -> result<void> {
        if (nothing_to_write()) {
            products_.release(true);
            return success();
        }
        typename store<Product>::commit_request req{this};
        store_->submit(req);
        if (!req.outcome) {
            if (req.outcome.error() == errc::conflict) store_->conflicts_.fetch_add(1, std::memory_order_relaxed);
            inbox_.clear();
            products_.release(false, true);
            return req.outcome.error();
        }
        for (auto* s : products_.local_.held) collect(*s->product);
        for (auto& p : products_.local_.added) {
            collect(*p);
            for (const auto& b : p->batches()) store_->remember_owner(b.ref(), p->sku());
            auto* s = store_->make_slot(p->sku());
            std::unique_lock lock(*s, std::try_to_lock);
            if (lock.owns_lock() && !s->product) s->product = std::move(*p);
        }
        inbox_.clear();
        products_.release(true);
        return success();
    }

    /// Undoes every change not committed. Never fails.
    void rollback() noexcept {
        inbox_.clear();
        products_.release(false);
    }

    /// The events of what was committed so far, each returned once.
    [[nodiscard]] auto collect_new_events() -> std::vector<event_type> { return std::exchange(events_, {}); }

    /// The stored result of a message id processed before (also one recorded by this unit of
    /// work and not yet committed); none when new.
    auto find_processed(const std::string& id) -> result<std::optional<std::string>> {
        for (const auto& [key, text] : inbox_) {
            if (key == id) return std::optional<std::string>(text);
        }
        return store_->find_processed(id);
    }
    /// Records a message id's result, kept by the next commit.
    auto record_processed(const std::string& id, std::string text) -> result<void> {
        inbox_.emplace_back(id, std::move(text));
        return success();
    }

private:
    friend class store<Product>;

    // Nothing changed, nothing to record and nothing read: no transaction is needed. (A product
    // that was read is checked at commit, so reads alone still need one.)
    [[nodiscard]] auto nothing_to_write() const noexcept -> bool {
        return products_.local_.empty() && inbox_.empty();
    }

    void collect(Product& p) {
        if (events_.empty()) {
            events_ = p.take_events();
        } else {
            for (auto& e : p.take_events()) events_.push_back(std::move(e));
        }
    }

    // Writes this unit of work's set in the leader's open transaction (called by the leader
    // while this unit of work's thread waits in submit()).
    auto write(detail::session& s) -> result<void> {
        for (auto* slot : products_.local_.held) {
            ALLOCATION_TRYV(write_held(s, *slot->product));
        }
        for (const auto& p : products_.local_.added) {
            ALLOCATION_TRYV(write_added(s, *p));
        }
        for (const auto& [id, text] : inbox_) {
            s.insert_inbox.bind(1, std::string_view(id));
            s.insert_inbox.bind(2, std::string_view(text));
            ALLOCATION_TRYV(done(s.insert_inbox.exec()));
        }
        return success();
    }

    static auto done(int rc) -> result<void> {
        if (rc == SQLITE_DONE) return success();
        return detail::write_error(rc);
    }

    static void bind_rule(detail::statement& st, int first, const Product& p) {
        const auto& rule = p.replenishment();
        st.bind(first, detail::optional_qty(rule.reorder_point));
        st.bind(first + 1, detail::optional_qty(rule.max_level));
        st.bind(first + 2, detail::optional_qty(rule.multiple));
    }

    auto write_held(detail::session& s, const Product& p) -> result<void> {
        using kind = typename Product::change::kind;
        const auto sku = detail::id_text(p.sku());
        const auto changed =
            !p.changes().empty() || p.replenishment_changed() || p.version() != p.checkpoint_version();
        if (!changed) {
            s.product_version.bind(1, sku);
            const int rc = s.product_version.step();
            const bool same = rc == SQLITE_ROW &&
                              static_cast<std::uint64_t>(s.product_version.int64(0)) == p.checkpoint_version();
            s.product_version.reset();
            if (rc != SQLITE_ROW && rc != SQLITE_DONE) return detail::write_error(rc);
            if (!same) return errc::conflict;
        } else {
            auto& up = s.update_product;
            up.bind(1, static_cast<std::int64_t>(p.version()));
            bind_rule(up, 2, p);
            up.bind(5, sku);
            up.bind(6, static_cast<std::int64_t>(p.checkpoint_version()));
            ALLOCATION_TRYV(done(up.exec()));
            if (sqlite3_changes(s.db.get()) != 1) return errc::conflict;
            for (const auto& c : p.changes()) {
                const auto& b = p.batches()[c.batch];
                switch (c.what) {
                    case kind::batch_added: {
                        ALLOCATION_TRYV(insert_batch(s, p, b, c.batch));
                        break;
                    }
                    case kind::allocated: {
                        ALLOCATION_TRYV(insert_allocation(s, p, b.ref(), c.order, c.qty));
                        break;
                    }
                    case kind::deallocated: {
                        s.delete_allocation.bind(1, detail::id_text(b.ref()));
                        s.delete_allocation.bind(2, detail::id_text(c.order));
                        ALLOCATION_TRYV(done(s.delete_allocation.exec()));
                        s.delete_view.bind(1, detail::id_text(c.order));
                        s.delete_view.bind(2, sku);
                        s.delete_view.bind(3, detail::id_text(b.ref()));
                        ALLOCATION_TRYV(done(s.delete_view.exec()));
                        break;
                    }
                    case kind::quantity_changed: {
                        s.update_batch_qty.bind(1, detail::qty_int(c.qty));
                        s.update_batch_qty.bind(2, detail::id_text(b.ref()));
                        ALLOCATION_TRYV(done(s.update_batch_qty.exec()));
                        break;
                    }
                }
            }
        }
        return write_events(s, p);
    }

    auto write_added(detail::session& s, const Product& p) -> result<void> {
        auto& ins = s.insert_product;
        ins.bind(1, detail::id_text(p.sku()));
        ins.bind(2, static_cast<std::int64_t>(p.version()));
        bind_rule(ins, 3, p);
        ALLOCATION_TRYV(done(ins.exec()));
        std::uint32_t i = 0;
        for (const auto& b : p.batches()) {
            ALLOCATION_TRYV(insert_batch(s, p, b, i++));
            for (const auto& e : b.allocations()) {
                ALLOCATION_TRYV(insert_allocation(s, p, b.ref(), e.order, e.qty));
            }
        }
        return write_events(s, p);
    }

    template <class Batch>
    static auto insert_batch(detail::session& s, const Product& p, const Batch& b, std::uint32_t position)
        -> result<void> {
        auto& st = s.insert_batch;
        st.bind(1, detail::id_text(b.ref()));
        st.bind(2, detail::id_text(p.sku()));
        st.bind(3, detail::qty_int(b.purchased()));
        st.bind(4, detail::optional_date_text(b.eta()));
        st.bind(5, detail::optional_date_text(b.expires()));
        st.bind(6, std::int64_t{position});
        return done(st.exec());
    }

    template <class Ref, class Order, class Qty>
    static auto insert_allocation(detail::session& s, const Product& p, const Ref& ref, const Order& order, Qty qty)
        -> result<void> {
        s.insert_allocation.bind(1, detail::id_text(ref));
        s.insert_allocation.bind(2, detail::id_text(order));
        s.insert_allocation.bind(3, detail::qty_int(qty));
        ALLOCATION_TRYV(done(s.insert_allocation.exec()));
        s.insert_view.bind(1, detail::id_text(order));
        s.insert_view.bind(2, detail::id_text(p.sku()));
        s.insert_view.bind(3, detail::id_text(ref));
        return done(s.insert_view.exec());
    }

    static auto write_events(detail::session& s, const Product& p) -> result<void> {
        for (const auto& e : p.events()) {
            auto& st = s.insert_event;
            st.bind(1, events::channel(e));
            std::visit(
                [&](const auto& ev) {
                    using E = std::remove_cvref_t<decltype(ev)>;
                    using T = traits_type;
                    if constexpr (std::is_same_v<E, events::basic_batch_created<T>>) {
                        st.bind(3, detail::id_text(ev.sku));
                        st.bind(4, detail::id_text(ev.ref));
                        st.bind(5, detail::qty_int(ev.qty));
                        st.bind(7, detail::optional_date_text(ev.eta));
                    } else if constexpr (std::is_same_v<E, events::basic_allocated<T>>) {
                        st.bind(2, detail::id_text(ev.order));
                        st.bind(3, detail::id_text(ev.sku));
                        st.bind(4, detail::id_text(ev.batch));
                        st.bind(5, detail::qty_int(ev.qty));
                    } else if constexpr (std::is_same_v<E, events::basic_deallocated<T>>) {
                        st.bind(2, detail::id_text(ev.order));
                        st.bind(3, detail::id_text(ev.sku));
                        st.bind(4, detail::id_text(ev.batch));
                        st.bind(5, detail::qty_int(ev.qty));
                        st.bind(8, std::string_view(ev.reason == deallocation_reason::batch_shrunk ? "batch_shrunk"
                                                                                                     : "requested"));
                    } else if constexpr (std::is_same_v<E, events::basic_out_of_stock<T>>) {
                        st.bind(2, detail::id_text(ev.order));
                        st.bind(3, detail::id_text(ev.sku));
                        st.bind(5, detail::qty_int(ev.qty));
                    } else if constexpr (std::is_same_v<E, events::basic_low_stock<T>>) {
                        st.bind(3, detail::id_text(ev.sku));
                        st.bind(5, detail::qty_int(ev.available));
                        st.bind(6, detail::qty_int(ev.reorder_qty));
                    } else if constexpr (std::is_same_v<E, events::basic_batch_quantity_changed<T>>) {
                        st.bind(3, detail::id_text(ev.sku));
                        st.bind(4, detail::id_text(ev.ref));
                        st.bind(5, detail::qty_int(ev.new_qty));
                        st.bind(6, detail::qty_int(ev.old_qty));
                    }
                },
                e);
            ALLOCATION_TRYV(done(st.exec()));
        }
        return success();
    }

    store<Product>* store_;
    repository<Product> products_;
    std::vector<event_type> events_;
    std::vector<std::pair<std::string, std::string>> inbox_;
};

static_assert(allocation::repository<repository<>>);
static_assert(allocation::unit_of_work<unit_of_work<>>);
static_assert(allocation::records_processed_messages<unit_of_work<>>);
static_assert(allocation::unit_of_work_factory<store<>>);

}  // namespace allocation::sqlite

#endif  // ALLOCATION_ADAPTERS_SQLITE_STORE_HPP
