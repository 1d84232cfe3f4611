// allocation — PostgreSQL adapter: the grouped store, products cached in slots and the commits
// of concurrent units of work written several per transaction (ordered group commits with early
// lock release, the mechanism of common/group_commit.hpp).
// SPDX-License-Identifier: MIT
//
// How a command runs:
// - get(sku) holds the product's slot in this store (one unit of work of this process holds a
//   product at a time; a second waits up to options::lock_timeout, then errc::conflict). A cached
//   product is taken as it is, with no round trip: its version is checked when its commit is
//   written. A product not cached, or made stale by a failed commit, is loaded (one statement,
//   prepared once per connection).
// - commit() records the unit of work's writes (its tracked changes, events for the outbox, inbox
//   records) and the version each product it holds is expected to have, queues them under the
//   next ticket and lets the products go at once. Up to options::groups_in_flight groups are
//   written at once, each by its leader on a connection of its own, never two on one product
//   (common/group_commit.hpp).
// - A commit's writes are rows (detail::set_rows) when its changes are allocations made and batch
//   quantities changed, as most commands' are; else SQL text (a batch added, a line deallocated, a
//   hold, a backorder, a product added). Every statement is prepared once per connection and run
//   by name, so the server does not parse and plan each command's SQL.
// - A leader writes its group in two round trips. First `BEGIN; SELECT ... FROM products WHERE sku IN (...) ORDER BY sku FOR UPDATE`:
//   the rows of the group's products locked in one fixed order (so processes never deadlock),
//   compared with the version the first set on each product expects (the later ones chain on
//   it); a set whose product another process moved on fails with errc::conflict, with every
//   later set that saw its effects, and those products are reloaded by their next get(). Then
//   every write of the surviving sets and `COMMIT` in one string: consecutive sets as rows
//   together, one multi-row statement per table (products and batches to their last values,
//   allocations and outbox rows in ticket order), the others' text between them in ticket order.
//   When the database refuses that (a CHECK or UNIQUE violation), the transaction goes back to a
//   savepoint taken after the lock and the sets are written again one at a time, each under a
//   savepoint of its own, so that only the guilty one fails. A command is answered only once its
//   COMMIT returned.
// Several processes may share the database: the locked version check keeps their products apart.
#ifndef ALLOCATION_ADAPTERS_POSTGRES_GROUPED_STORE_HPP
#define ALLOCATION_ADAPTERS_POSTGRES_GROUPED_STORE_HPP

#include <chrono>         // milliseconds
#include <cstddef>        // size_t
#include <cstdint>        // uint64_t
#include <exception>      // current_exception, exception
#include <memory>         // shared_ptr, make_shared, unique_ptr
#include <optional>       // optional
#include <span>           // span
#include <string>         // string
#include <string_view>    // string_view
#include <system_error>   // error_code
#include <unordered_map>  // unordered_map
#include <unordered_set>  // unordered_set
#include <utility>        // move, pair
#include <vector>         // vector

#include <fmt/format.h>
#include <pqxx/pqxx>

#include <allocation/adapters/common/group_commit.hpp>
#include <allocation/adapters/common/inbox.hpp>
#include <allocation/adapters/common/slot_repository.hpp>
#include <allocation/adapters/common/slot_unit_of_work.hpp>
#include <allocation/adapters/postgres/codec.hpp>
#include <allocation/adapters/postgres/connection.hpp>
#include <allocation/adapters/postgres/pooled_store.hpp>
#include <allocation/adapters/postgres/reader.hpp>
#include <allocation/adapters/postgres/schema.hpp>
#include <allocation/domain/product.hpp>
#include <allocation/error.hpp>
#include <allocation/ports/inbox.hpp>
#include <allocation/ports/product_reader.hpp>
#include <allocation/ports/unit_of_work.hpp>
#include <allocation/try.hpp>

namespace allocation::postgres {

namespace detail {

/// The writes of one commit of a grouped store: as rows when they carry its changes (written
/// with those of the other commits of its group, see record_rows()), else as SQL text; and for
/// each product it holds or adds the text of its SKU and the version the database must have
/// (none: the product is added and must not exist).
struct grouped_writes {
    struct check {
        std::string sku;
        std::optional<std::uint64_t> expected;
    };
    bool as_rows = false;
    set_rows rows;
    std::string sql;
    std::vector<check> checks;
    bool failed = false;  // the writes could not be recorded (no connection)
};

}  // namespace detail

/// A product store on a PostgreSQL database whose commits are grouped (see the file comment).
/// Thread-safe; it must outlive its units of work. Its units of work have an inbox
/// (records_processed_messages); its reads (product_reader) lock nothing.
/// @tparam Product a basic_product.
template <class Product>
class basic_grouped_store
    : public detail::pooled_store<basic_grouped_store<Product>, Product>,
      public allocation::detail::group_commit<basic_grouped_store<Product>, Product, detail::grouped_writes> {
    using sku_type = typename Product::sku_type;
    using traits_type = typename Product::traits_type;
    using batch_ref_type = typename Product::batch_ref_type;
    using slot = allocation::detail::slot_of_t<Product>;
    using writes_type = detail::grouped_writes;
    using batch_type = allocation::detail::commit_batch<writes_type, slot>;

public:
    using product_type = Product;
    using unit_of_work_type = allocation::detail::slot_unit_of_work<basic_grouped_store>;
    /// A unit of work's products are let go as soon as its commit is queued.
    static constexpr bool releases_early = true;

    /// A store on the database at `url` that connects on demand; call migrate() first on a new
    /// database, or use open().
    explicit basic_grouped_store(std::string url, options opts = {})
        : detail::pooled_store<basic_grouped_store<Product>, Product>(std::move(url), std::move(opts)) {}

    /// Starts a unit of work.
    [[nodiscard]] auto begin() -> unit_of_work_type { return unit_of_work_type(*this); }

    /// How many groups of commits may be written at once (options::groups_in_flight).
    [[nodiscard]] auto groups_in_flight() const noexcept -> std::size_t { return this->pool()->settings().groups_in_flight; }

    /// The stored result of a message id processed before; none when new.
    auto find_processed(const std::string& id) -> result<std::optional<std::string>> {
        return detail::with_connection(*pool_, [&](pqxx::connection& c) {
            const auto rows = detail::exec(c, "SELECT result FROM inbox WHERE message_id = " + detail::quote(c, id));
            return rows.empty() ? std::optional<std::string>{} : std::optional<std::string>(rows[0][0].c_str());
        });
    }

private:
    friend class allocation::detail::store_base<basic_grouped_store, Product>;
    friend class allocation::detail::group_commit<basic_grouped_store, Product, writes_type>;
    template <class>
    friend class allocation::detail::slot_repository;
    template <class>
    friend class allocation::detail::slot_unit_of_work;
    static constexpr bool drops_on_failure = true;  // the database may hold newer products
    using detail::pooled_store<basic_grouped_store<Product>, Product>::pool_;

    // -- what slot_repository needs ---------------------------------------------------------
    [[nodiscard]] auto lock_timeout() const noexcept -> std::chrono::milliseconds { return pool_->settings().lock_timeout; }
    auto contains(const sku_type& key) -> result<bool> {
        return detail::with_connection(*pool_, [&](pqxx::connection& c) {
            return !detail::exec(c, "SELECT 1 FROM products WHERE sku = " + detail::sql(c, key)).empty();
        });
    }
    // A SKU not cached yet is loaded here, in one round trip, and its slot made with it (unless
    // another unit of work holds the slot meanwhile: it is then loaded under the slot).
    auto slot_of(const sku_type& key) -> result<slot*> {
        if (auto* s = map_.find(key)) return s;
        ALLOCATION_TRY(loaded, load(key));
        if (!loaded) return static_cast<slot*>(nullptr);
        auto* s = map_.find_or_make(key);
        if (s->try_lock()) {
            if (!s->product) {
                s->product = std::move(*loaded);
                s->loaded_generation = s->generation.load();
            }
            s->unlock();
        }
        return s;
    }
    // A current cached product is taken as it is (its commit checks its version); else it is
    // loaded.
    auto refresh(slot& s, const sku_type& key) -> result<bool> {
        const auto generation = s.generation.load();
        if (s.product && s.loaded_generation == generation) return true;
        ALLOCATION_TRY(loaded, load(key));
        if (!loaded) return false;
        s.product = std::move(*loaded);
        s.loaded_generation = generation;
        return true;
    }
    auto owner_of(const batch_ref_type& ref) -> result<std::optional<sku_type>> {
        if (auto known = map_.owner(ref)) return known;
        ALLOCATION_TRY(key, detail::with_connection(*pool_, [&](pqxx::connection& c) {
                           const auto rows = detail::exec(c, "SELECT sku FROM batches WHERE ref = " + detail::sql(c, ref));
                           return rows.empty() ? std::optional<sku_type>{}
                                               : std::optional<sku_type>(detail::read_id<sku_type>(rows[0][0]));
                       }));
        if (key) map_.set_owner(ref, *key);
        return key;
    }

    auto load(const sku_type& key) -> result<std::optional<Product>> {
        ALLOCATION_TRY(rows, detail::with_connection(*pool_, [&](pqxx::connection& c) {
                           return detail::product_rows(c, key);
                       }));
        if (rows.empty()) return std::optional<Product>{};
        try {
            return std::optional<Product>(detail::decode_product<Product>(key, rows, this->maker()));
        } catch (const std::exception& e) {
            pool_->report(fmt::format("cannot read product {}: {}", key, e.what()));
            return errc::storage_error;
        }
    }

    // -- what group_commit needs ------------------------------------------------------------
    auto record_writes(allocation::detail::held_products<Product>& local, allocation::detail::staged_inbox& inbox)
        -> writes_type {
        writes_type w;
        for (auto* s : local.held) w.checks.push_back({detail::id_text(s->product->sku()), s->product->checkpoint_version()});
        for (const auto& p : local.added) w.checks.push_back({detail::id_text(p->sku()), std::nullopt});
        w.as_rows = local.added.empty();
        for (auto* s : local.held) {
            if (!w.as_rows) break;
            w.as_rows = detail::record_rows(*s->product, s->product->checkpoint_version(), w.rows);
        }
        if (w.as_rows) {
            for (const auto& [id, text] : inbox.entries()) w.rows.inbox.push_back({id, text});
            return w;
        }
        w.rows = {};
        // SQL text needs a connection to quote its literals (their encoding); no round trip is made.
        auto made = detail::with_connection(*pool_, [&](pqxx::connection& c) {
            for (auto* s : local.held) {
                const Product& p = *s->product;
                detail::write_product_sql(c, p, false, p.checkpoint_version(), w.sql);
            }
            for (const auto& p : local.added) {
                detail::add_product_sql(c, *p, w.sql);
                detail::write_product_sql(c, *p, true, p->version(), w.sql);
            }
            for (const auto& [id, text] : inbox.entries()) detail::record_processed_sql(c, id, text, w.sql);
        });
        if (!made) {
            w = writes_type{};
            w.failed = true;
        }
        return w;
    }

    void write_batch(batch_type& batch) {
        for (std::size_t i = 0; i < batch.size(); ++i) {
            if (batch.writes(i).failed) batch.fail(i, errc::storage_error);
        }
        auto conn = pool_->acquire();
        if (!conn) {
            batch.fail_rest(conn.error());
            return;
        }
        auto c = std::move(conn).value();
        write_group(c, batch);
        if (!c) {
            batch.fail_rest(errc::storage_error);
            return;
        }
        pool_->release(std::move(c));
    }

    // Writes the batch in one transaction: locks the rows of its products in SKU order, checks
    // their versions, fails the sets whose products moved on, then sends every write of the
    // others and COMMIT. When the database refuses those writes, each set is written again alone under a
    // savepoint, still holding the locks, so that only the guilty one fails. A connection left in
    // an unknown state is discarded (`c` becomes null; the sets not decided then fail).
    void write_group(std::unique_ptr<pqxx::connection>& c, batch_type& batch) {
        std::unordered_map<std::string, std::optional<std::uint64_t>> stored;  // by SKU text
        std::string keys;
        for (std::size_t i = 0; i < batch.size(); ++i) {
            if (!batch.ok(i)) continue;
            for (const auto& ch : batch.writes(i).checks) {
                if (stored.emplace(ch.sku, std::nullopt).second) keys += (keys.empty() ? "" : ", ") + detail::quote(*c, ch.sku);
            }
        }
        const bool began = attempt(c, batch, [&] {
            detail::prepare_rows<traits_type>(*c);
            if (keys.empty()) {
                detail::exec(*c, "BEGIN");  // sets of inbox records only: nothing to lock
            } else {
                const auto rows = detail::exec(
                    *c, fmt::format("BEGIN;\nSELECT sku, version FROM products WHERE sku IN ({}) ORDER BY sku FOR UPDATE",
                                    keys));
                for (const auto& row : rows) {
                    stored[detail::id_text(detail::read_id<sku_type>(row[0]))] = row[1].as<std::uint64_t>();
                }
            }
        });
        if (!began) return;
        // The first set written on each product carries the check; the later ones chain on it.
        std::unordered_set<std::string_view> checked;
        std::string sql = "SAVEPOINT sets;\n";
        std::vector<const detail::set_rows*> run;  // sets as rows not written into `sql` yet
        std::size_t written = 0;
        for (std::size_t i = 0; i < batch.size(); ++i) {
            if (batch.skip(i)) continue;
            for (const auto& ch : batch.writes(i).checks) {
                if (!checked.insert(ch.sku).second) continue;
                if (stored[ch.sku] != ch.expected) {
                    batch.fail(i, ch.expected ? std::error_code(errc::conflict) : std::error_code(errc::duplicate_product));
                    break;
                }
            }
            if (!batch.ok(i)) continue;
            ++written;
            if (batch.writes(i).as_rows) {
                run.push_back(&batch.writes(i).rows);
                continue;
            }
            write_rows(*c, run, sql);
            sql += batch.writes(i).sql;
        }
        write_rows(*c, run, sql);
        if (written == 0) {
            attempt(c, batch, [&] { detail::exec(*c, "ROLLBACK"); });
            return;
        }
        sql += "RELEASE sets;\nCOMMIT";
        std::error_code refused;
        if (attempt(c, batch, [&] { detail::exec(*c, sql); }, &refused)) {
            batch.committed();
            return;
        }
        if (!c || !attempt(c, batch, [&] { detail::exec(*c, "ROLLBACK TO SAVEPOINT sets"); })) return;
        // The database refused the group: each set alone, so that only the guilty one fails.
        for (std::size_t i = 0; i < batch.size() && c; ++i) {
            if (batch.skip(i)) continue;
            std::error_code guilty;
            if (attempt(c, batch, [&] { detail::exec(*c, "SAVEPOINT one;\n" + set_sql(*c, batch.writes(i)) + "RELEASE one"); },
                        &guilty)) {
                continue;
            }
            if (!c || !attempt(c, batch, [&] { detail::exec(*c, "ROLLBACK TO SAVEPOINT one"); })) return;
            batch.fail(i, guilty);
        }
        if (c && attempt(c, batch, [&] { detail::exec(*c, "COMMIT"); })) batch.committed();
    }

    // Appends to `sql` the statements of the sets as rows in `run`, written together (or one
    // after the other when they cannot be), and empties `run`.
    static void write_rows(pqxx::connection& c, std::vector<const detail::set_rows*>& run, std::string& sql) {
        if (run.empty()) return;
        if (!detail::rows_sql<traits_type>(c, run, sql)) {
            for (const auto* rows : run) detail::rows_sql<traits_type>(c, std::span(&rows, 1), sql);
        }
        run.clear();
    }

    // The statements of one set alone.
    static auto set_sql(pqxx::connection& c, const writes_type& w) -> std::string {
        if (!w.as_rows) return w.sql;
        std::string sql;
        const auto* rows = &w.rows;
        detail::rows_sql<traits_type>(c, std::span(&rows, 1), sql);
        return sql;
    }

    // Runs `step` on the transaction of `c`. True when it succeeded. Else the failure is
    // reported; with `refused`, a failure that leaves the session usable is stored there and the
    // transaction is left to the caller; any other failure ends the transaction (a ROLLBACK, or
    // the connection discarded: `c` becomes null) and fails every set not decided yet.
    template <class Step>
    auto attempt(std::unique_ptr<pqxx::connection>& c, batch_type& batch, Step step, std::error_code* refused = nullptr)
        -> bool {
        try {
            step();
            return true;
        } catch (...) {
            auto f = detail::classify(std::current_exception());
            pool_->report(f.text);
            if (f.state == detail::aftermath::usable && refused != nullptr) {
                *refused = f.code;
                return false;
            }
            if (f.state == detail::aftermath::usable) {
                try {
                    detail::exec(*c, "ROLLBACK");
                } catch (...) {
                    f.state = detail::aftermath::broken;
                }
            }
            if (f.state == detail::aftermath::broken) {
                pool_->discard(std::move(c));
                c = nullptr;
            }
            batch.fail_rest(f.code);
            return false;
        }
    }

    allocation::detail::slot_map<Product> map_;

    void adopt(allocation::detail::held_products<Product>& local) { allocation::detail::adopt_added(map_, local); }
};

/// The grouped PostgreSQL store of the default product.
using grouped_store = basic_grouped_store<allocation::product>;

static_assert(allocation::unit_of_work_factory<grouped_store>);
static_assert(allocation::product_reader<grouped_store>);
static_assert(allocation::reads_holds<grouped_store>);
static_assert(allocation::lists_holding_products<grouped_store>);
static_assert(allocation::makes_products<grouped_store>);

}  // namespace allocation::postgres

#endif  // ALLOCATION_ADAPTERS_POSTGRES_GROUPED_STORE_HPP
