// allocation — the SQLite adapter's schema, its migrations and the connection settings.
// SPDX-License-Identifier: MIT
//
// Design notes (the PostgreSQL adapter mirrors this schema):
// - `products` holds one row per SKU with its version: a commit writes
//   `UPDATE products SET version = new WHERE sku = ? AND version = <version when loaded>`, and no
//   row updated means another writer changed the product first (errc::conflict). A unit of work
//   that only read a product checks its version the same way, so an answer given from a product
//   that another process changed meanwhile is never acknowledged.
// - `batches.position` is the product's insertion order (ties of the allocation preference keep
//   it). `allocations.id` is monotonic (an INTEGER PRIMARY KEY takes max + 1), so ordering a
//   batch's allocations by id gives them oldest first, as the product needs to deallocate the
//   most recent first.
// - The `outbox` of events and the `inbox` of processed message ids are written in the same
//   transaction as the product, from its tracked changes. The read model `allocations_view`
//   (version 3) is a view over `allocations` and `batches`, written by nothing: an order's
//   lines are found by `allocations_by_order`, in allocation order (allocations.id).
// - The pages an Allocate writes (version 3): the products row, the allocation row, its
//   UNIQUE (batch_ref, orderid) and `allocations_by_order` entries, the outbox row (and the
//   inbox row of a message id). Version 2 also wrote a read-model row with its key, the
//   outbox's `sent` index and the AUTOINCREMENT counter in sqlite_sequence.
// - The outbox keeps typed columns, no JSON: `channel` is events::channel_v of the event;
//   `orderid`, `sku`, `batchref`, `qty`, `qty2` (low_stock: reorder_qty; batch_quantity_changed:
//   the old quantity), `eta` and `reason` (line_deallocated: 'requested' or 'batch_shrunk') are
//   filled where the event has them; `low_stock.available` is in `qty`. Ids are the events'
//   stable ids and their commit order (SQLite has one writer at a time, so a reader never sees
//   an id before a smaller one that is still to commit).
// - `outbox_cursor` (version 3, one row) holds `last`, the id up to which every event was
//   published: an event is unsent when its id is greater. The relay moves it forward once per
//   batch it published and now and then deletes the published rows below it in the same
//   transaction, always keeping the row at the cursor itself, so the largest id is never
//   deleted and a new row (max(id) + 1) never takes the id of one already published.
// - `holds` and `backorders` (version 2) keep a product's holds and backorders, one row per
//   (sku, order id): a hold's batch, quantity, deadline (`expires_at`, milliseconds since the Unix
//   epoch, UTC), number of lines and sequence (the product's placement order); a backorder's
//   quantity still owed, priority and sequence. A hold past its deadline stays until it is swept
//   (expire_holds) or replaced; the product loaded from the rows stops counting it as soon as it
//   is given a time at or after the deadline.
#ifndef ALLOCATION_ADAPTERS_SQLITE_SCHEMA_HPP
#define ALLOCATION_ADAPTERS_SQLITE_SCHEMA_HPP

#include <sqlite3.h>

#include <array>        // array
#include <cstddef>      // size_t
#include <string>       // string
#include <string_view>  // string_view

#include <fmt/format.h>

#include <allocation/adapters/sqlite/codec.hpp>
#include <allocation/adapters/sqlite/connection.hpp>
#include <allocation/domain/types.hpp>
#include <allocation/error.hpp>

namespace allocation::sqlite {

/// When a commit is durable (PRAGMA synchronous, in WAL mode).
enum class durability {
    /// `synchronous=FULL`: each commit waits for the WAL to reach the disk (fsync) before it is
    /// acknowledged. An acknowledged commit survives a process crash, an OS crash and a power
    /// loss. Concurrent units of work of one store share the fsync (group commit).
    full,
    /// `synchronous=NORMAL`: a commit is acknowledged once written to the OS; the WAL is synced
    /// at checkpoints. Survives a process crash (SIGKILL); an OS crash or power loss can lose the
    /// last acknowledged commits, never consistency.
    normal,
};

namespace schema {

/// The schema version this adapter writes.
inline constexpr int current_version = 3;

/// The columns of an event in the outbox, in every version (`{events}` in the migrations).
inline constexpr std::string_view event_columns = R"sql(channel  TEXT NOT NULL,
    orderid  {order},
    sku      {sku},
    batchref {ref},
    qty      INTEGER,
    qty2     INTEGER,
    eta      TEXT,
    reason   TEXT)sql";

/// Migration i + 1 takes the schema from version i to i + 1. `{sku}`, `{ref}` and `{order}` are
/// the column types of the identifiers (detail::id_column_type: INTEGER or TEXT); `{events}`,
/// event_columns.
inline constexpr std::array<std::string_view, current_version> migrations = {
    R"sql(
CREATE TABLE products (
    sku           {sku} PRIMARY KEY,
    version       INTEGER NOT NULL,
    reorder_point INTEGER,          -- replenishment rule, NULL when unset
    max_level     INTEGER,
    multiple      INTEGER
);
CREATE TABLE batches (
    ref       {ref} PRIMARY KEY,
    sku       {sku} NOT NULL REFERENCES products (sku),
    purchased INTEGER NOT NULL,
    eta       TEXT,                 -- 'YYYY-MM-DD', NULL: in the warehouse
    expires   TEXT,                 -- 'YYYY-MM-DD', NULL: does not expire
    position  INTEGER NOT NULL      -- insertion order within the product
);
CREATE UNIQUE INDEX batches_by_sku ON batches (sku, position);
CREATE TABLE allocations (
    id        INTEGER PRIMARY KEY,  -- allocation order: a batch's lines oldest first
    batch_ref {ref} NOT NULL REFERENCES batches (ref),
    orderid   {order} NOT NULL,
    qty       INTEGER NOT NULL,
    UNIQUE (batch_ref, orderid)
);
CREATE TABLE allocations_view (     -- read model: order id -> (sku, batch)
    orderid  {order} NOT NULL,
    sku      {sku} NOT NULL,
    batchref {ref} NOT NULL,
    PRIMARY KEY (orderid, sku, batchref)
);                                  -- rowid: the order rows were written in
CREATE TABLE inbox (                -- message ids processed, with their results
    message_id TEXT PRIMARY KEY,
    result     TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE outbox (               -- events committed, published by the relay
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    {events},
    sent     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_unsent ON outbox (sent, id);
)sql",
    R"sql(
CREATE TABLE holds (                -- a product's holds, live and lapsed (not swept yet)
    sku        {sku} NOT NULL,
    orderid    {order} NOT NULL,
    batch_ref  {ref} NOT NULL,
    qty        INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,    -- milliseconds since the Unix epoch, UTC
    lines      INTEGER NOT NULL,
    sequence   INTEGER NOT NULL,
    PRIMARY KEY (sku, orderid)
) WITHOUT ROWID;
CREATE INDEX holds_by_batch ON holds (batch_ref);
CREATE INDEX holds_by_order ON holds (orderid);
CREATE INDEX holds_by_deadline ON holds (expires_at);
CREATE TABLE backorders (           -- a product's queued order lines
    sku      {sku} NOT NULL,
    orderid  {order} NOT NULL,
    qty      INTEGER NOT NULL,      -- still owed
    priority INTEGER NOT NULL,
    sequence INTEGER NOT NULL,
    PRIMARY KEY (sku, orderid)
) WITHOUT ROWID;
)sql",
    R"sql(
DROP TABLE allocations_view;
CREATE INDEX allocations_by_order ON allocations (orderid);
CREATE VIEW allocations_view (orderid, sku, batchref) AS  -- read model: order id -> (sku, batch)
    SELECT a.orderid, b.sku, a.batch_ref FROM allocations a JOIN batches b ON b.ref = a.batch_ref
    ORDER BY a.id;
CREATE TABLE outbox_cursor (        -- one row: every event with id <= last was published
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    last INTEGER NOT NULL
);
INSERT INTO outbox_cursor (id, last) VALUES (1, coalesce((SELECT min(id) - 1 FROM outbox WHERE sent = 0),
                                                         (SELECT max(id) FROM outbox), 0));
CREATE TABLE outbox_v3 (            -- events committed, published by the relay
    id       INTEGER PRIMARY KEY,
    {events}
);
INSERT INTO outbox_v3 SELECT id, channel, orderid, sku, batchref, qty, qty2, eta, reason FROM outbox ORDER BY id;
DROP TABLE outbox;
ALTER TABLE outbox_v3 RENAME TO outbox;
)sql",
};

/// The SQL of migration `i` (from version i to i + 1) for products of `Traits`, identifiers in
/// INTEGER or TEXT columns by their type.
template <class Traits = default_traits>
[[nodiscard]] auto migration_script(std::size_t i) -> std::string {
    const auto expand = [](std::string_view text, const auto&... more) {
        return fmt::format(fmt::runtime(text), fmt::arg("sku", detail::id_column_type<typename Traits::sku_type>),
                           fmt::arg("ref", detail::id_column_type<typename Traits::batch_ref_type>),
                           fmt::arg("order", detail::id_column_type<typename Traits::order_id_type>), more...);
    };
    return expand(migrations.at(i), fmt::arg("events", expand(event_columns)));
}

/// Applies the connection settings: WAL journal, the durability, a busy timeout.
inline auto configure(sqlite3* db, durability sync, int busy_timeout_ms) -> result<void> {
    sqlite3_busy_timeout(db, busy_timeout_ms);
    const char* sql = sync == durability::full
                          ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF;"
                          : "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF;";
    if (detail::exec_script(db, sql) != SQLITE_OK) return errc::storage_error;
    return success();
}

/// The schema version of a database: 0 when empty.
inline auto version(sqlite3* db) -> result<int> {
    detail::statement exists(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'");
    if (!exists.ok()) return errc::storage_error;
    const int rc = exists.step();
    if (rc == SQLITE_DONE) return 0;
    if (rc != SQLITE_ROW) return errc::storage_error;
    detail::statement get(db, "SELECT version FROM schema_version");
    if (!get.ok() || get.step() != SQLITE_ROW) return errc::storage_error;
    return static_cast<int>(get.int64(0));
}

/// Creates or upgrades the schema of products of `Traits` in one transaction, identifiers in
/// INTEGER or TEXT columns by their type. Errors: errc::storage_error, also when the database
/// has a newer schema than this adapter knows.
template <class Traits = default_traits>
auto migrate(sqlite3* db) -> result<void> {
    if (detail::exec_script(db, "BEGIN IMMEDIATE") != SQLITE_OK) return errc::storage_error;
    const auto fail = [db]() -> result<void> {
        detail::exec_script(db, "ROLLBACK");
        return errc::storage_error;
    };
    auto v = version(db);
    if (!v || v.value() > current_version) return fail();
    if (v.value() == 0 && detail::exec_script(db, "CREATE TABLE schema_version (version INTEGER NOT NULL);"
                                                  "INSERT INTO schema_version VALUES (0);") != SQLITE_OK) {
        return fail();
    }
    for (int i = v.value(); i < current_version; ++i) {
        const auto sql = migration_script<Traits>(static_cast<std::size_t>(i));
        if (detail::exec_script(db, sql.c_str()) != SQLITE_OK) return fail();
    }
    detail::statement set(db, "UPDATE schema_version SET version = ?");
    if (!set.ok()) return fail();
    set.bind(1, std::int64_t{current_version});
    if (set.exec() != SQLITE_DONE) return fail();
    if (detail::exec_script(db, "COMMIT") != SQLITE_OK) return fail();
    return success();
}

}  // namespace schema
}  // namespace allocation::sqlite

#endif  // ALLOCATION_ADAPTERS_SQLITE_SCHEMA_HPP
