// allocation — SQLite adapter: the codec, how products and events are rows: the conversions
// of domain values to columns, the statements of the schema, a product's writes from its
// tracked changes (recorded in a write_set, run by the commit leader), its load from its rows,
// and the outbox row's columns.
// SPDX-License-Identifier: MIT
//
// Everything that knows which product fact goes to which table is here (and in schema.hpp):
// the store, repository, unit of work, reader and outbox only call it. A new product-level fact
// (holds and backorders are one) is a migration in schema.hpp, its statements in `session`, one
// case in write_held() per tracked change kind, its rows in write_added() and load().
#ifndef ALLOCATION_ADAPTERS_SQLITE_CODEC_HPP
#define ALLOCATION_ADAPTERS_SQLITE_CODEC_HPP

#include <sqlite3.h>

#include <chrono>       // year_month_day
#include <cstddef>      // size_t
#include <cstdint>      // int64_t, uint32_t, uint64_t
#include <mutex>        // mutex
#include <optional>     // optional
#include <string>       // string
#include <string_view>  // string_view
#include <utility>      // move, pair
#include <vector>       // vector

#include <fmt/format.h>

#include <allocation/adapters/common/inbox.hpp>
#include <allocation/adapters/common/outbox_row.hpp>
#include <allocation/adapters/common/product_rows.hpp>
#include <allocation/adapters/common/stored_id.hpp>
#include <allocation/adapters/sqlite/connection.hpp>
#include <allocation/domain/traits.hpp>
#include <allocation/domain/types.hpp>
#include <allocation/error.hpp>
#include <allocation/try.hpp>

namespace allocation::sqlite::detail {

using allocation::detail::id_column;
using allocation::detail::make_id;

/// The column type of an identifier type in the schema: INTEGER for integer ids, else TEXT.
template <class Id>
inline constexpr std::string_view id_column_type = allocation::detail::integer_id<Id> ? "INTEGER" : "TEXT";

template <class Q>
[[nodiscard]] auto qty_int(const Q& q) noexcept -> std::int64_t {
    return allocation::detail::count(q);
}

template <class Q>
[[nodiscard]] auto optional_qty(const std::optional<Q>& q) -> std::optional<std::int64_t> {
    if (!q) return std::nullopt;
    return allocation::detail::count(*q);
}

template <class Q>
[[nodiscard]] auto make_optional_qty(const std::optional<std::int64_t>& n) -> std::optional<Q> {
    if (!n) return std::nullopt;
    return allocation::detail::make_quantity<Q>(*n);
}

/// A date as stored: ISO 8601 `YYYY-MM-DD` text, which sorts like the date.
[[nodiscard]] inline auto date_text(const std::chrono::year_month_day& d) -> std::string {
    return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(d.year()), static_cast<unsigned>(d.month()),
                       static_cast<unsigned>(d.day()));
}

[[nodiscard]] inline auto parse_date(std::string_view text) -> std::optional<std::chrono::year_month_day> {
    int y = 0;
    unsigned m = 0;
    unsigned d = 0;
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
    for (std::size_t i = 0; i < 10; ++i) {
        if (i == 4 || i == 7) continue;
        if (text[i] < '0' || text[i] > '9') return std::nullopt;
    }
    const auto digits = [&](std::size_t from, std::size_t n) {
        unsigned v = 0;
        for (std::size_t i = from; i < from + n; ++i) v = v * 10 + static_cast<unsigned>(text[i] - '0');
        return v;
    };
    y = static_cast<int>(digits(0, 4));
    m = digits(5, 2);
    d = digits(8, 2);
    const std::chrono::year_month_day out{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
    if (!out.ok()) return std::nullopt;
    return out;
}

template <class Date>
[[nodiscard]] auto optional_date_text(const std::optional<Date>& d) -> std::optional<std::string> {
    if (!d) return std::nullopt;
    return date_text(*d);
}


/// One connection with its prepared statements; used under `mutex`.
struct session {
    connection db;
    std::mutex mutex;
    // reads
    statement product_version;
    statement product_row;
    statement product_batches;
    statement product_allocations;
    statement product_holds;
    statement order_holds;
    statement holds_due;
    statement product_backorders;
    statement batch_owner;
    statement batch_state;
    statement order_allocations;
    statement inbox_find;
    // writes
    statement begin, commit, rollback, savepoint, release, rollback_to;
    statement read_begin, read_end;
    statement update_product;
    statement insert_product;
    statement insert_batch;
    statement update_batch_qty;
    statement insert_allocation;
    statement delete_allocation;
    statement insert_hold;
    statement delete_hold;
    statement insert_backorder;
    statement update_backorder;
    statement delete_backorder;
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
            {&product_holds,
             "SELECT sku, orderid, batch_ref, qty, expires_at, lines, sequence FROM holds WHERE sku = ? ORDER BY sequence"},
            {&holds_due, "SELECT DISTINCT sku FROM holds WHERE expires_at <= ?"},
            {&order_holds,
             "SELECT sku, orderid, batch_ref, qty, expires_at, lines, sequence FROM holds WHERE orderid = ? ORDER BY sku"},
            {&product_backorders, "SELECT orderid, qty, priority, sequence FROM backorders WHERE sku = ? ORDER BY sequence"},
            {&batch_owner, "SELECT sku FROM batches WHERE ref = ?"},
            {&batch_state,
             "SELECT b.sku, b.purchased, b.eta, b.expires, (SELECT coalesce(sum(qty), 0) FROM allocations a "
             "WHERE a.batch_ref = b.ref), (SELECT coalesce(sum(qty), 0) FROM holds h WHERE h.batch_ref = b.ref) "
             "FROM batches b WHERE b.ref = ?"},
            {&order_allocations,
             "SELECT b.sku, a.qty, a.batch_ref FROM allocations a JOIN batches b ON b.ref = a.batch_ref "
             "WHERE a.orderid = ? ORDER BY a.id"},
            {&inbox_find, "SELECT result FROM inbox WHERE message_id = ?"},
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
            // A backorder filled twice from one batch is one row of the order in it.
            {&insert_allocation,
             "INSERT INTO allocations (batch_ref, orderid, qty) VALUES (?, ?, ?) "
             "ON CONFLICT (batch_ref, orderid) DO UPDATE SET qty = qty + excluded.qty"},
            {&delete_allocation, "DELETE FROM allocations WHERE batch_ref = ? AND orderid = ?"},
            {&insert_hold,
             "INSERT INTO holds (sku, orderid, batch_ref, qty, expires_at, lines, sequence) VALUES (?, ?, ?, ?, ?, ?, ?)"},
            {&delete_hold, "DELETE FROM holds WHERE sku = ? AND orderid = ? AND sequence = ?"},
            {&insert_backorder,
             "INSERT INTO backorders (sku, orderid, qty, priority, sequence) VALUES (?, ?, ?, ?, ?)"},
            {&update_backorder, "UPDATE backorders SET qty = ? WHERE sku = ? AND orderid = ?"},
            {&delete_backorder, "DELETE FROM backorders WHERE sku = ? AND orderid = ? AND sequence = ?"},
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

/// Runs a one-row query bound to `key` and gives `read(statement&)` of its row, none when it
/// has none. Errors: errc::storage_error.
template <class Key, class Read>
auto query_one(statement& st, const Key& key, Read&& read) -> result<std::optional<decltype(read(st))>> {
    st.bind(1, key);
    const int rc = st.step();
    std::optional<decltype(read(st))> out;
    if (rc == SQLITE_ROW) out = read(st);
    st.reset();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return errc::storage_error;
    return out;
}

/// Runs a query bound to `key` and calls `row(statement&)` on each row. Errors:
/// errc::storage_error.
template <class Key, class Row>
auto query_each(statement& st, const Key& key, Row&& row) -> result<void> {
    st.bind(1, key);
    int rc = 0;
    while ((rc = st.step()) == SQLITE_ROW) row(st);
    st.reset();
    if (rc != SQLITE_DONE) return errc::storage_error;
    return success();
}

/// A stored date column as a date; none for NULL.
template <class Date>
[[nodiscard]] auto read_date(const statement& st, int i) -> std::optional<Date> {
    if (auto text = st.optional_text(i)) return parse_date(*text);
    return std::nullopt;
}

/// A hold from a statement selecting `sku, orderid, batch_ref, qty, expires_at, lines, sequence`.
template <class Traits>
[[nodiscard]] auto read_hold_row(const statement& st) -> basic_hold<Traits> {
    return {make_id<typename Traits::order_id_type>(st.text(1)),
            allocation::detail::make_quantity<typename Traits::quantity_type>(st.int64(3)),
            make_id<typename Traits::batch_ref_type>(st.text(2)), allocation::detail::make_time(st.int64(4)),
            static_cast<std::uint32_t>(st.int64(5)), static_cast<std::uint64_t>(st.int64(6))};
}

/// Loads a product in one read transaction on `s`, made by `maker`; none when unknown.
template <class Product>
auto load(session& s, const typename Product::sku_type& key, const allocation::detail::product_maker<Product>& maker)
    -> result<std::optional<Product>> {
    using traits = typename Product::traits_type;
    using q = typename Product::quantity_type;
    using date_type = typename Product::date_type;
    using ref_type = typename Product::batch_ref_type;
    if (s.read_begin.exec() != SQLITE_DONE) return errc::storage_error;
    const auto text = id_column(key);
    const auto fail = [&](std::error_code ec) -> result<std::optional<Product>> {
        s.read_end.exec();
        return ec;
    };
    auto head = query_one(s.product_row, text, [](const statement& st) {
        return std::pair{static_cast<std::uint64_t>(st.int64(0)),
                         typename Product::replenishment_type{make_optional_qty<q>(st.optional_int64(1)),
                                                               make_optional_qty<q>(st.optional_int64(2)),
                                                               make_optional_qty<q>(st.optional_int64(3))}};
    });
    if (!head) return fail(head.error());
    if (!head.value()) {
        s.read_end.exec();
        return std::optional<Product>{};
    }
    allocation::detail::product_rows<Product> rows(key);
    auto batches = query_each(s.product_batches, text, [&](const statement& st) {
        rows.add_batch(make_id<ref_type>(st.text(0)), allocation::detail::make_quantity<q>(st.int64(1)),
                       read_date<date_type>(st, 2), read_date<date_type>(st, 3));
    });
    if (!batches) return fail(batches.error());
    auto allocations = query_each(s.product_allocations, text, [&](const statement& st) {
        rows.add_allocation(make_id<ref_type>(st.text(0)), make_id<typename Product::order_id_type>(st.text(1)),
                            allocation::detail::make_quantity<q>(st.int64(2)));
    });
    if (!allocations) return fail(allocations.error());
    using order_type = typename Product::order_id_type;
    auto holds = query_each(s.product_holds, text, [&](const statement& st) { rows.add_hold(read_hold_row<traits>(st)); });
    if (!holds) return fail(holds.error());
    auto backorders = query_each(s.product_backorders, text, [&](const statement& st) {
        rows.add_backorder({make_id<order_type>(st.text(0)), allocation::detail::make_quantity<q>(st.int64(1)),
                            st.int64(2), static_cast<std::uint64_t>(st.int64(3))});
    });
    if (!backorders) return fail(backorders.error());
    if (s.read_end.exec() != SQLITE_DONE) return errc::storage_error;
    auto& [version, rule] = *head.value();
    ALLOCATION_TRY(built, std::move(rows).build(version, std::move(rule), maker));
    return std::optional<Product>(std::move(built));
}

/// The writes of one commit: statements of the writer session with their arguments, recorded
/// while the unit of work still holds its products (the product is let go right after) and run
/// later, in order, by the commit leader in its transaction. A check turns a product changed
/// underneath into errc::conflict: `one_row` (the version update must change exactly one row)
/// and `value` (a one-column query must give `expected`: the version of a product only read).
class write_set {
public:
    enum class check : std::uint8_t { done, one_row, value };

    /// Records `st` with its arguments (bound 1, 2, ...): integers, text, optional values (NULL
    /// when empty) and std::nullopt.
    template <class... Args>
    void add(statement session::*st, const Args&... args) {
        add_checked(st, check::done, 0, args...);
    }
    template <class... Args>
    void add_checked(statement session::*st, check c, std::int64_t expected, const Args&... args) {
        ops_.push_back({st, static_cast<std::uint32_t>(args_.size()), static_cast<std::uint32_t>(sizeof...(Args)), c,
                        expected});
        (push(args), ...);
    }

    /// Runs every statement on `s`, stopping at the first failure: errc::conflict (a check
    /// failed, a busy database or a constraint violation), errc::storage_error.
    auto run(session& s) const -> result<void> {
        for (const auto& o : ops_) {
            auto& st = s.*o.st;
            for (std::uint32_t i = 0; i < o.count; ++i) {
                const auto& a = args_[o.first + i];
                const int at = static_cast<int>(i + 1);
                switch (a.what) {
                    case kind::null: st.bind_null(at); break;
                    case kind::integer: st.bind(at, a.n); break;
                    case kind::text:
                        st.bind_static(at, std::string_view(text_).substr(static_cast<std::size_t>(a.n), a.size));
                        break;
                }
            }
            if (o.expect == check::value) {
                const int rc = st.step();
                const bool same = rc == SQLITE_ROW && st.int64(0) == o.expected;
                st.reset();
                if (rc != SQLITE_ROW && rc != SQLITE_DONE) return write_error(rc);
                if (!same) return errc::conflict;
            } else {
                ALLOCATION_TRYV(done(st.exec()));
                if (o.expect == check::one_row && sqlite3_changes(s.db.get()) != 1) return errc::conflict;
            }
        }
        return success();
    }

    [[nodiscard]] auto empty() const noexcept -> bool { return ops_.empty(); }
    /// The number of statements recorded.
    [[nodiscard]] auto size() const noexcept -> std::size_t { return ops_.size(); }

private:
    enum class kind : std::uint8_t { null, integer, text };
    struct arg {
        kind what;
        std::uint32_t size;  // text: its length
        std::int64_t n;      // integer: the value; text: its offset in text_
    };
    struct op {
        statement session::*st;
        std::uint32_t first, count;
        check expect;
        std::int64_t expected;
    };

    void push(std::int64_t v) { args_.push_back({kind::integer, 0, v}); }
    void push(std::string_view v) {
        args_.push_back({kind::text, static_cast<std::uint32_t>(v.size()), static_cast<std::int64_t>(text_.size())});
        text_.append(v);
    }
    void push(std::nullopt_t) { args_.push_back({kind::null, 0, 0}); }
    template <class T>
    void push(const std::optional<T>& v) {
        if (v) {
            push(*v);
        } else {
            push(std::nullopt);
        }
    }

    std::vector<op> ops_;
    std::vector<arg> args_;
    std::string text_;  // every text argument, one after the other
};

/// The column value of an optional identifier.
template <class Id>
[[nodiscard]] auto optional_id(const std::optional<Id>& id) -> std::optional<decltype(id_column(*id))> {
    if (!id) return std::nullopt;
    return id_column(*id);
}

/// Records an outbox row (insert_event).
template <class Traits>
void write_outbox_row(write_set& w, const allocation::detail::basic_outbox_row<Traits>& row) {
    w.add(&session::insert_event, std::string_view(row.channel), optional_id(row.order), optional_id(row.sku),
          optional_id(row.batch), optional_qty(row.qty), optional_qty(row.qty2), optional_date_text(row.eta),
          row.reason);
}

/// The outbox row of a statement selecting `id, channel, orderid, sku, batchref, qty, qty2,
/// eta, reason, sent`.
template <class Traits>
[[nodiscard]] auto read_outbox_row(const statement& st) -> allocation::detail::basic_outbox_row<Traits> {
    using q = typename Traits::quantity_type;
    const auto id = [&]<class Id>(int i) -> std::optional<Id> {
        if (st.is_null(i)) return std::nullopt;
        return make_id<Id>(st.text(i));
    };
    return {st.text(1),
            id.template operator()<typename Traits::order_id_type>(2),
            id.template operator()<typename Traits::sku_type>(3),
            id.template operator()<typename Traits::batch_ref_type>(4),
            make_optional_qty<q>(st.optional_int64(5)),
            make_optional_qty<q>(st.optional_int64(6)),
            read_date<typename Traits::date_type>(st, 7),
            st.optional_text(8)};
}


template <class Product, class Batch>
void insert_batch(write_set& w, const Product& p, const Batch& b, std::uint32_t position) {
    w.add(&session::insert_batch, id_column(b.ref()), id_column(p.sku()), qty_int(b.purchased()),
          optional_date_text(b.eta()), optional_date_text(b.expires()), std::int64_t{position});
}

/// Records an allocation row (the read model `allocations_view` is a view of these rows).
template <class Ref, class Order, class Qty>
void insert_allocation(write_set& w, const Ref& ref, const Order& order, Qty qty) {
    w.add(&session::insert_allocation, id_column(ref), id_column(order), qty_int(qty));
}

template <class Product>
void insert_hold(write_set& w, const Product& p, const typename Product::hold_type& h) {
    w.add(&session::insert_hold, id_column(p.sku()), id_column(h.order), id_column(h.batch), qty_int(h.qty),
          allocation::detail::stored_time(h.expires_at), std::int64_t{h.lines}, static_cast<std::int64_t>(h.sequence));
}

template <class Product>
void insert_backorder(write_set& w, const Product& p, const typename Product::backorder_type& b) {
    w.add(&session::insert_backorder, id_column(p.sku()), id_column(b.order), qty_int(b.qty), std::int64_t{b.priority},
          static_cast<std::int64_t>(b.sequence));
}

/// Deletes the row of a hold or a backorder (`st`: delete_hold or delete_backorder).
template <class Product, class Fact>
void delete_fact(write_set& w, statement session::*st, const Product& p, const Fact& f) {
    w.add(st, id_column(p.sku()), id_column(f.order), static_cast<std::int64_t>(f.sequence));
}

/// Records a product's events for the outbox.
template <class Product>
void write_events(write_set& w, const Product& p) {
    for (const auto& e : p.events()) write_outbox_row(w, allocation::detail::to_outbox_row(e));
}

/// Records the writes of a product a unit of work held: its version (checked: errc::conflict
/// when another writer changed it since it was loaded, also for a product only read) and its
/// tracked changes, then its events.
template <class Product>
void write_held(write_set& w, const Product& p) {
    using kind = typename Product::change::kind;
    using check = write_set::check;
    const auto sku = id_column(p.sku());
    const auto changed = !p.changes().empty() || p.replenishment_changed() || p.version() != p.checkpoint_version();
    const auto loaded = static_cast<std::int64_t>(p.checkpoint_version());
    if (!changed) {
        w.add_checked(&session::product_version, check::value, loaded, sku);
    } else {
        const auto& rule = p.replenishment();
        w.add_checked(&session::update_product, check::one_row, 0, static_cast<std::int64_t>(p.version()),
                      optional_qty(rule.reorder_point), optional_qty(rule.max_level), optional_qty(rule.multiple), sku,
                      loaded);
        for (const auto& c : p.changes()) {
            switch (c.what) {
                case kind::batch_added:
                    insert_batch(w, p, p.batches()[c.batch], c.batch);
                    break;
                case kind::allocated:
                    insert_allocation(w, p.batches()[c.batch].ref(), c.order, c.qty);
                    break;
                case kind::deallocated:
                    w.add(&session::delete_allocation, id_column(p.batches()[c.batch].ref()), id_column(c.order));
                    break;
                case kind::quantity_changed:
                    w.add(&session::update_batch_qty, qty_int(c.qty), id_column(p.batches()[c.batch].ref()));
                    break;
                case kind::hold_lapsed:
                    break;  // nothing to store: the stored hold has its deadline
                case kind::hold_placed:
                    insert_hold(w, p, p.tracked_hold(c));
                    break;
                case kind::hold_removed:
                    delete_fact(w, &session::delete_hold, p, p.tracked_hold(c));
                    break;
                case kind::backorder_added:
                    insert_backorder(w, p, p.tracked_backorder(c));
                    break;
                case kind::backorder_changed:
                    w.add(&session::update_backorder, qty_int(c.qty), sku, id_column(c.order));
                    break;
                case kind::backorder_removed:
                    delete_fact(w, &session::delete_backorder, p, p.tracked_backorder(c));
                    break;
            }
        }
    }
    write_events(w, p);
}

/// Records the writes of a new product, whole, then its events.
template <class Product>
void write_added(write_set& w, const Product& p) {
    const auto& rule = p.replenishment();
    w.add(&session::insert_product, id_column(p.sku()), static_cast<std::int64_t>(p.version()),
          optional_qty(rule.reorder_point), optional_qty(rule.max_level), optional_qty(rule.multiple));
    std::uint32_t i = 0;
    for (const auto& b : p.batches()) {
        insert_batch(w, p, b, i++);
        for (const auto& e : b.allocations()) insert_allocation(w, b.ref(), e.order, e.qty);
    }
    if (!p.holds().empty() || p.backorder_count() != 0) {
        const auto facts = p.facts();
        for (const auto& h : facts.holds) insert_hold(w, p, h);
        for (const auto& b : facts.backorders) insert_backorder(w, p, b);
    }
    write_events(w, p);
}

/// Records the inbox records of a unit of work.
inline void write_inbox(write_set& w, const allocation::detail::staged_inbox& inbox) {
    for (const auto& [id, text] : inbox.entries()) {
        w.add(&session::insert_inbox, std::string_view(id), std::string_view(text));
    }
}

}  // namespace allocation::sqlite::detail

#endif  // ALLOCATION_ADAPTERS_SQLITE_CODEC_HPP
