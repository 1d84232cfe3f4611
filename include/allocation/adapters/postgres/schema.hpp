// allocation — PostgreSQL adapter: the schema and its migrations.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_POSTGRES_SCHEMA_HPP
#define ALLOCATION_ADAPTERS_POSTGRES_SCHEMA_HPP

#include <array>        // array
#include <string>       // string, to_string
#include <string_view>  // string_view

#include <fmt/format.h>
#include <pqxx/pqxx>

#include <allocation/adapters/postgres/codec.hpp>

namespace allocation::postgres {

/// The schema version this adapter writes; schema_version holds the one a database has.
inline constexpr int schema_version = 2;

namespace detail {

/// Migrations, the i-th taking a database from version i to i + 1. `{sku}`, `{ref}` and
/// `{order}` are the column types of the identifiers (id_column_type: bigint or text), `{qty}`
/// the one of quantities (qty_column_type: bigint, or numeric for a decimal quantity). Each runs in one
/// transaction with the schema_version row, under an advisory lock, so that several processes
/// starting on a new database at once migrate it once.
///
/// Tables, the same as the SQLite adapter's (see its schema.hpp for the column meanings):
/// - products: one row per SKU, its version (the optimistic-concurrency check) and its
///   replenishment rule. Its row is the lock a unit of work takes (SELECT ... FOR UPDATE).
/// - batches: position = the order the product added them; `allocated` is kept by the adapter
///   beside `purchased`, and a CHECK constraint refuses any row where it exceeds `purchased`, so
///   the database itself never stores an oversold batch.
/// - allocations: one row per (batch, order line); id orders them oldest first.
/// - allocations_view: the read model order id -> (SKU, batch). Here a view over allocations and
///   batches rather than a table the commit writes: the same rows, never out of step.
/// - outbox: the events of each committed unit of work, written in its transaction; the relay
///   publishes the unsent ones and marks them sent.
/// - inbox: ids of processed messages, with their stored result.
/// - holds, backorders (version 2): a product's holds (live and lapsed, not swept yet) and
///   backorders, one row per (sku, order id); expires_at is in milliseconds since the Unix
///   epoch (UTC), sequence the product's placement order.
inline constexpr std::array<std::string_view, schema_version> migrations = {
    R"sql(
CREATE TABLE products (
    sku {sku} PRIMARY KEY,
    version bigint NOT NULL DEFAULT 0,
    reorder_point {qty},
    max_level {qty},
    multiple {qty}
);
CREATE TABLE batches (
    ref {ref} PRIMARY KEY,
    sku {sku} NOT NULL REFERENCES products (sku),
    position integer NOT NULL,
    purchased {qty} NOT NULL,
    allocated {qty} NOT NULL DEFAULT 0,
    eta date,
    expires date,
    UNIQUE (sku, position),
    CONSTRAINT batches_purchased_valid CHECK (purchased >= 0),
    CONSTRAINT batches_never_oversold CHECK (allocated >= 0 AND allocated <= purchased)
);
CREATE TABLE allocations (
    id bigint GENERATED ALWAYS AS IDENTITY,  -- allocation order: a batch's lines oldest first
    batch_ref {ref} NOT NULL REFERENCES batches (ref),
    orderid {order} NOT NULL,
    qty {qty} NOT NULL CHECK (qty > 0),
    PRIMARY KEY (batch_ref, orderid)
);
CREATE INDEX allocations_by_order ON allocations (orderid, id);
CREATE VIEW allocations_view AS  -- read model: order id -> (sku, batch)
    SELECT a.orderid, b.sku, a.batch_ref AS batchref, a.qty, a.id
    FROM allocations a JOIN batches b ON b.ref = a.batch_ref;
CREATE TABLE inbox (  -- message ids processed, with their results
    message_id text PRIMARY KEY,
    result text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE outbox (  -- events committed, published by the relay
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel text NOT NULL,
    orderid {order},
    sku {sku},
    batchref {ref},
    qty {qty},
    qty2 {qty},
    eta date,
    reason text,
    sent boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_unsent ON outbox (id) WHERE NOT sent;
-- The optimistic check of a commit: the product must still have the version its unit of work
-- loaded. Raises serialization_failure (40001) otherwise, which aborts the whole transaction.
CREATE FUNCTION allocation_save_product(p_sku {sku}, p_expected bigint, p_version bigint,
                                        p_reorder_point {qty}, p_max_level {qty},
                                        p_multiple {qty}) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE products
       SET version = p_version, reorder_point = p_reorder_point, max_level = p_max_level,
           multiple = p_multiple
     WHERE sku = p_sku AND version = p_expected;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'product % changed concurrently (expected version %)', p_sku, p_expected
              USING ERRCODE = 'serialization_failure';
    END IF;
END
$$;
)sql",
    R"sql(
CREATE TABLE holds (  -- a product's holds, live and lapsed (not swept yet)
    sku {sku} NOT NULL REFERENCES products (sku),
    orderid {order} NOT NULL,
    batch_ref {ref} NOT NULL REFERENCES batches (ref),
    qty {qty} NOT NULL CHECK (qty > 0),
    expires_at bigint NOT NULL,  -- milliseconds since the Unix epoch, UTC
    lines integer NOT NULL CHECK (lines > 0),
    sequence bigint NOT NULL,
    PRIMARY KEY (sku, orderid)
);
CREATE INDEX holds_by_batch ON holds (batch_ref);
CREATE INDEX holds_by_order ON holds (orderid);
CREATE INDEX holds_by_deadline ON holds (expires_at);
CREATE TABLE backorders (  -- a product's queued order lines
    sku {sku} NOT NULL REFERENCES products (sku),
    orderid {order} NOT NULL,
    qty {qty} NOT NULL CHECK (qty > 0),  -- still owed
    priority bigint NOT NULL,
    sequence bigint NOT NULL,
    PRIMARY KEY (sku, orderid)
);
)sql",
};

/// Brings the database to schema_version, with the column types of `Traits`. Throws what
/// libpqxx throws; a database newer than the adapter is refused with pqxx::failure.
template <class Traits>
void migrate(pqxx::connection& c) {
    pqxx::work tx(c);
    // Another process may be migrating: wait for it longer than a unit of work waits for a lock.
    tx.exec("SET LOCAL lock_timeout = '60s'");
    tx.exec("SELECT pg_advisory_xact_lock(7439001)");  // any constant of ours
    tx.exec("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)");
    const auto r = tx.exec("SELECT coalesce(max(version), 0) FROM schema_version");
    const int current = r[0][0].as<int>();
    if (current > schema_version) {
        throw pqxx::failure("the database schema is newer than this allocation adapter");
    }
    for (int v = current; v < schema_version; ++v) {
        tx.exec(fmt::format(fmt::runtime(migrations[static_cast<std::size_t>(v)]),
                            fmt::arg("sku", id_column_type<typename Traits::sku_type>),
                            fmt::arg("ref", id_column_type<typename Traits::batch_ref_type>),
                            fmt::arg("order", id_column_type<typename Traits::order_id_type>),
                            fmt::arg("qty", qty_column_type<typename Traits::quantity_type>())));
    }
    if (current < schema_version) {
        tx.exec("DELETE FROM schema_version");
        tx.exec("INSERT INTO schema_version (version) VALUES (" + std::to_string(schema_version) + ")");
    }
    tx.commit();
}

}  // namespace detail
}  // namespace allocation::postgres

#endif  // ALLOCATION_ADAPTERS_POSTGRES_SCHEMA_HPP
