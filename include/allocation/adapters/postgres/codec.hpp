// allocation — PostgreSQL adapter: the codec, how products and events are rows: domain values
// to SQL literals and back, a product from its rows, and the outbox row's columns.
//
// Everything that knows which product fact goes to which table is here, in schema.hpp and in
// the unit of work's write() (which turns tracked changes into statements, those of holds and
// backorders by fact_change_sql()). A new product-level fact (holds and backorders are one) is a
// migration in schema.hpp, its rows in product_select() and decode_product(), and its
// statements in fact_change_sql() and facts_insert_sql().
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_POSTGRES_CODEC_HPP
#define ALLOCATION_ADAPTERS_POSTGRES_CODEC_HPP

#include <charconv>     // from_chars
#include <algorithm>    // sort, unique
#include <cstddef>      // size_t
#include <chrono>       // year_month_day
#include <concepts>     // same_as
#include <cstdint>      // int64_t
#include <optional>     // optional
#include <string>       // string, to_string
#include <string_view>  // string_view
#include <utility>      // move
#include <vector>       // vector

#include <fmt/format.h>
#include <pqxx/pqxx>

#include <allocation/adapters/common/outbox_row.hpp>
#include <allocation/adapters/common/product_rows.hpp>
#include <allocation/adapters/common/stored_id.hpp>
#include <allocation/adapters/postgres/connection.hpp>
#include <allocation/domain/types.hpp>

namespace allocation::postgres {

/// The domain traits the adapter can store: identifiers that are integers (kept in bigint
/// columns) or have a text form (kept in text columns, see allocation::detail::storable_id),
/// quantities with a count (allocation::basic_quantity<Scale> or an integer; a decimal one is
/// kept in a numeric column with its fraction digits), and std::chrono::year_month_day dates.
/// allocation::default_traits is one.
template <class Traits>
concept storable_traits = allocation::detail::storable_id<typename Traits::sku_type> &&
                          allocation::detail::storable_id<typename Traits::batch_ref_type> &&
                          allocation::detail::storable_id<typename Traits::order_id_type> &&
                          std::same_as<typename Traits::date_type, std::chrono::year_month_day>;

namespace detail {

/// The column type of an identifier type: bigint for integer ids, else text.
template <class Id>
inline constexpr std::string_view id_column_type = allocation::detail::integer_id<Id> ? "bigint" : "text";

/// The digits after the decimal point a quantity type keeps: d for basic_quantity<10^d>; 0 for
/// whole units, integers, and a scale that is not a power of ten (kept as its count).
template <class Q>
inline constexpr int fraction_digits = [] {
    std::int64_t scale = 1;
    if constexpr (requires { Q::scale; }) scale = static_cast<std::int64_t>(Q::scale);
    int digits = 0;
    for (; scale > 1 && scale % 10 == 0; scale /= 10) ++digits;
    return scale == 1 ? digits : 0;
}();

/// The column type of a quantity type: bigint for whole units, numeric(19, d) for a decimal one
/// (the quantity itself, 1.250 for 1250 thousandths, so that SQL sums and reports read units).
template <class Q>
[[nodiscard]] auto qty_column_type() -> std::string {
    if constexpr (fraction_digits<Q> == 0) {
        return "bigint";
    } else {
        return fmt::format("numeric(19, {})", fraction_digits<Q>);
    }
}

/// A count of 1/10^digits units as decimal text (`1250`, 3 -> `1.250`).
[[nodiscard]] inline auto decimal_text(std::int64_t count, int digits) -> std::string {
    if (digits == 0) return std::to_string(count);
    std::int64_t scale = 1;
    for (int i = 0; i < digits; ++i) scale *= 10;
    const auto magnitude = count < 0 ? -count : count;
    return fmt::format("{}{}.{:0{}}", count < 0 ? "-" : "", magnitude / scale, magnitude % scale, digits);
}

/// The count of 1/10^digits units of a decimal text (`1.25`, 3 -> 1250). Throws
/// pqxx::conversion_error on anything else, or on more significant fraction digits than kept.
[[nodiscard]] inline auto decimal_count(std::string_view text, int digits) -> std::int64_t {
    const auto bad = [&] { return pqxx::conversion_error("bad quantity " + std::string(text)); };
    const bool negative = !text.empty() && text.front() == '-';
    const auto body = negative ? text.substr(1) : text;
    const auto dot = body.find('.');
    const auto whole = body.substr(0, dot);
    auto fraction = dot == std::string_view::npos ? std::string_view{} : body.substr(dot + 1);
    while (fraction.size() > static_cast<std::size_t>(digits) && fraction.back() == '0') fraction.remove_suffix(1);
    if (whole.empty() || fraction.size() > static_cast<std::size_t>(digits)) throw bad();
    std::int64_t out = 0;
    const auto take = [&](std::string_view part) {
        for (const char ch : part) {
            if (ch < '0' || ch > '9') throw bad();
            out = out * 10 + (ch - '0');
        }
    };
    take(whole);
    take(fraction);
    for (auto i = fraction.size(); i < static_cast<std::size_t>(digits); ++i) out *= 10;
    return negative ? -out : out;
}

/// An identifier as an SQL literal: an integer, or its quoted text.
template <class Id>
[[nodiscard]] auto sql(pqxx::connection& c, const Id& id) -> std::string {
    if constexpr (allocation::detail::integer_id<Id>) {
        return std::to_string(allocation::detail::id_column(id));
    } else {
        return quote(c, allocation::detail::id_column(id));
    }
}

/// A quantity as an SQL literal, in the unit of its column (qty_column_type).
template <class Q>
    requires requires(const Q& q) { allocation::detail::count(q); }
[[nodiscard]] auto sql_qty(const Q& q) -> std::string {
    return decimal_text(allocation::detail::count(q), fraction_digits<Q>);
}

template <class Q>
[[nodiscard]] auto sql_qty(const std::optional<Q>& q) -> std::string {
    return q ? sql_qty(*q) : std::string("NULL");
}

[[nodiscard]] inline auto sql_date(const std::optional<std::chrono::year_month_day>& d) -> std::string {
    if (!d) return "NULL";
    return fmt::format("'{:04}-{:02}-{:02}'::date", static_cast<int>(d->year()), static_cast<unsigned>(d->month()),
                       static_cast<unsigned>(d->day()));
}

/// A date read as to_char(d, 'YYYY-MM-DD'); none for NULL.
[[nodiscard]] inline auto read_date(const pqxx::field& f) -> std::optional<std::chrono::year_month_day> {
    if (f.is_null()) return std::nullopt;
    const std::string_view text = f.c_str();
    int y = 0;
    unsigned m = 0;
    unsigned d = 0;
    if (text.size() != 10) throw pqxx::conversion_error("bad date " + std::string(text));
    std::from_chars(text.data(), text.data() + 4, y);
    std::from_chars(text.data() + 5, text.data() + 7, m);
    std::from_chars(text.data() + 8, text.data() + 10, d);
    return std::chrono::year_month_day{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
}

/// A quantity read from its column (qty_column_type).
template <class Q>
[[nodiscard]] auto read_qty(const pqxx::field& f) -> Q {
    return allocation::detail::make_quantity<Q>(decimal_count(std::string_view(f.c_str(), f.size()), fraction_digits<Q>));
}

template <class Q>
[[nodiscard]] auto read_optional_qty(const pqxx::field& f) -> std::optional<Q> {
    if (f.is_null()) return std::nullopt;
    return read_qty<Q>(f);
}

/// An identifier read from its column (id_column_type).
template <class Id>
[[nodiscard]] auto read_id(const pqxx::field& f) -> Id {
    return allocation::detail::make_id<Id>(std::string(f.c_str(), f.size()));
}

template <class Id>
[[nodiscard]] auto sql(pqxx::connection& c, const std::optional<Id>& id) -> std::string {
    return id ? sql(c, *id) : std::string("NULL");
}

template <class Id>
[[nodiscard]] auto read_optional_id(const pqxx::field& f) -> std::optional<Id> {
    if (f.is_null()) return std::nullopt;
    return read_id<Id>(f);
}

// product_select() with `key` standing for the SKU (an SQL literal, or a parameter).
[[nodiscard]] inline auto product_select_text(std::string_view key) -> std::string {
    return fmt::format(
        "SELECT p.version, p.reorder_point, p.max_level, p.multiple, b.ref, b.purchased, "
        "to_char(b.eta, 'YYYY-MM-DD'), to_char(b.expires, 'YYYY-MM-DD'), a.orderid, a.qty, 0 AS kind, "
        "NULL::bigint, NULL::bigint, NULL::bigint, b.position::bigint AS k1, a.id AS k2 "
        "FROM products p LEFT JOIN batches b ON b.sku = p.sku "
        "LEFT JOIN allocations a ON a.batch_ref = b.ref WHERE p.sku = {0} "
        "UNION ALL SELECT NULL, NULL, NULL, NULL, h.batch_ref, NULL, NULL, NULL, h.orderid, h.qty, 1, "
        "h.expires_at, h.lines, NULL, h.sequence, 0 FROM holds h WHERE h.sku = {0} "
        "UNION ALL SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, o.orderid, o.qty, 2, "
        "NULL, NULL, o.priority, o.sequence, 0 FROM backorders o WHERE o.sku = {0} "
        "ORDER BY kind, k1, k2",
        key);
}

/// The query of a product's rows, in one statement (one snapshot). Column 10 is the row's kind:
/// 0, its row, then one per (batch, allocation), batches in insertion order and allocations
/// oldest first (a batch without allocations has one row with NULL allocation columns); 1, a
/// hold (batch in column 4, order and quantity in 8 and 9, deadline, lines and sequence in 11,
/// 12 and 14); 2, a backorder (order and quantity in 8 and 9, priority and sequence in 13 and 14).
template <class Sku>
[[nodiscard]] auto product_select(pqxx::connection& c, const Sku& key) -> std::string {
    return product_select_text(sql(c, key));
}

/// The rows of product_select() for `key`, through a statement prepared on the connection at its
/// first use (parsed and planned once per connection, not once per load).
template <class Sku>
[[nodiscard]] auto product_rows(pqxx::connection& c, const Sku& key) -> pqxx::result {
    static const std::string text = product_select_text("$1");
    c.prepare("allocation_product_rows", text);
    pqxx::nontransaction tx(c);
    if constexpr (allocation::detail::integer_id<Sku>) {
        return tx.exec_prepared("allocation_product_rows", allocation::detail::id_column(key));
    } else {
        return tx.exec_prepared("allocation_product_rows", std::string(allocation::detail::id_column(key)));
    }
}

/// The product of the rows of product_select() (which must have at least one), made by `maker`,
/// its holds and backorders restored. Throws pqxx::conversion_error on a malformed value, or
/// holds that do not fit the product's batches.
template <class Product>
[[nodiscard]] auto decode_product(const typename Product::sku_type& key, const pqxx::result& rows,
                                  const allocation::detail::product_maker<Product>& maker) -> Product {
    using q = typename Product::quantity_type;
    using ref_type = typename Product::batch_ref_type;
    using order_type = typename Product::order_id_type;
    const auto& first = rows[0];
    allocation::detail::product_rows<Product> out(key);
    for (const auto& r : rows) {
        const auto kind = r[10].as<int>();
        if (kind == 1) {
            out.add_hold({read_id<order_type>(r[8]), read_qty<q>(r[9]), read_id<ref_type>(r[4]),
                          allocation::detail::make_time(r[11].as<std::int64_t>()), r[12].as<std::uint32_t>(),
                          r[14].as<std::uint64_t>()});
            continue;
        }
        if (kind == 2) {
            out.add_backorder({read_id<order_type>(r[8]), read_qty<q>(r[9]), r[13].as<std::int64_t>(),
                               r[14].as<std::uint64_t>()});
            continue;
        }
        if (r[4].is_null()) continue;  // a product without batches
        auto ref = read_id<ref_type>(r[4]);
        if (!out.has_batch(ref)) out.add_batch(ref, read_qty<q>(r[5]), read_date(r[6]), read_date(r[7]));
        if (!r[8].is_null()) out.add_allocation(ref, read_id<typename Product::order_id_type>(r[8]), read_qty<q>(r[9]));
    }
    auto built = std::move(out).build(first[0].template as<std::uint64_t>(),
                                      {read_optional_qty<q>(first[1]), read_optional_qty<q>(first[2]),
                                       read_optional_qty<q>(first[3])},
                                      maker);
    if (!built) throw pqxx::conversion_error("stored holds or backorders do not fit the product's batches");
    return std::move(built).value();
}

/// The VALUES tuple of a hold of product `p`.
template <class Product>
[[nodiscard]] auto hold_values(pqxx::connection& c, const Product& p, const typename Product::hold_type& h)
    -> std::string {
    return fmt::format("({}, {}, {}, {}, {}, {}, {})", sql(c, p.sku()), sql(c, h.order), sql(c, h.batch),
                       sql_qty(h.qty), allocation::detail::stored_time(h.expires_at), h.lines, h.sequence);
}

/// The VALUES tuple of a backorder of product `p`.
template <class Product>
[[nodiscard]] auto backorder_values(pqxx::connection& c, const Product& p,
                                    const typename Product::backorder_type& b) -> std::string {
    return fmt::format("({}, {}, {}, {}, {})", sql(c, p.sku()), sql(c, b.order), sql_qty(b.qty), b.priority,
                       b.sequence);
}

inline constexpr std::string_view hold_insert = "INSERT INTO holds (sku, orderid, batch_ref, qty, expires_at, lines, sequence) VALUES ";
inline constexpr std::string_view backorder_insert = "INSERT INTO backorders (sku, orderid, qty, priority, sequence) VALUES ";

/// The statements storing a tracked change of a hold or a backorder of `p` (nothing for the
/// other kinds, and for hold_lapsed: the stored hold has its deadline).
template <class Product>
[[nodiscard]] auto fact_change_sql(pqxx::connection& c, const Product& p, const typename Product::change& ch)
    -> std::string {
    using kind = typename Product::change::kind;
    const auto remove = [&](std::string_view table, const auto& fact) {
        return fmt::format("DELETE FROM {} WHERE sku = {} AND orderid = {} AND sequence = {};\n", table,
                           sql(c, p.sku()), sql(c, fact.order), fact.sequence);
    };
    switch (ch.what) {
        case kind::hold_placed:
            return fmt::format("{}{};\n", hold_insert, hold_values(c, p, p.tracked_hold(ch)));
        case kind::hold_removed:
            return remove("holds", p.tracked_hold(ch));
        case kind::backorder_added:
            return fmt::format("{}{};\n", backorder_insert, backorder_values(c, p, p.tracked_backorder(ch)));
        case kind::backorder_changed:
            return fmt::format("UPDATE backorders SET qty = {} WHERE sku = {} AND orderid = {};\n", sql_qty(ch.qty),
                               sql(c, p.sku()), sql(c, ch.order));
        case kind::backorder_removed:
            return remove("backorders", p.tracked_backorder(ch));
        default:
            return {};
    }
}

/// The INSERTs of every hold and backorder of a new product, or nothing for none.
template <class Product>
[[nodiscard]] auto facts_insert_sql(pqxx::connection& c, const Product& p) -> std::string {
    if (p.holds().empty() && p.backorder_count() == 0) return {};
    const auto facts = p.facts();
    std::string out;
    for (const auto& h : facts.holds) out += fmt::format("{}{};\n", hold_insert, hold_values(c, p, h));
    for (const auto& b : facts.backorders) out += fmt::format("{}{};\n", backorder_insert, backorder_values(c, p, b));
    return out;
}

/// The columns of the outbox's INSERT, and of its reads (as read_outbox_record() takes them).
inline constexpr std::string_view outbox_insert_columns = "(channel, sku, orderid, batchref, qty, qty2, eta, reason)";
inline constexpr std::string_view outbox_columns =
    "id, channel, sku, orderid, batchref, qty, qty2, to_char(eta, 'YYYY-MM-DD'), reason, sent";

/// The VALUES tuple of an outbox row, in the order of outbox_insert_columns.
template <class Traits>
[[nodiscard]] auto outbox_values(pqxx::connection& c, const events::basic_event<Traits>& e) -> std::string {
    const auto row = allocation::detail::to_outbox_row(e);
    return fmt::format("({},{},{},{},{},{},{},{})", quote(c, row.channel), sql(c, row.sku), sql(c, row.order),
                       sql(c, row.batch), sql_qty(row.qty), sql_qty(row.qty2), sql_date(row.eta),
                       row.reason ? quote(c, *row.reason) : std::string("NULL"));
}

/// The INSERT writing `events` to the outbox, or nothing for none.
template <class Traits, class Range>
[[nodiscard]] auto outbox_insert(pqxx::connection& c, const Range& evs) -> std::string {
    std::string out;
    for (const auto& e : evs) {
        out += out.empty() ? fmt::format("INSERT INTO outbox {} VALUES ", outbox_insert_columns) : std::string(",");
        out += outbox_values<Traits>(c, e);
    }
    if (!out.empty()) out += ";\n";
    return out;
}

/// The outbox record of a row selected with outbox_columns; none for an unknown channel.
template <class Traits>
[[nodiscard]] auto read_outbox_record(const pqxx::row& row) -> std::optional<allocation::detail::basic_outbox_record<Traits>> {
    using q = typename Traits::quantity_type;
    allocation::detail::basic_outbox_row<Traits> r{
        row[1].c_str(),
        read_optional_id<typename Traits::order_id_type>(row[3]),
        read_optional_id<typename Traits::sku_type>(row[2]),
        read_optional_id<typename Traits::batch_ref_type>(row[4]),
        read_optional_qty<q>(row[5]),
        read_optional_qty<q>(row[6]),
        read_date(row[7]),
        row[8].is_null() ? std::nullopt : std::optional<std::string>(row[8].c_str())};
    auto channel = r.channel;
    auto event = allocation::detail::from_outbox_row(std::move(r));
    if (!event) return std::nullopt;
    return allocation::detail::basic_outbox_record<Traits>{row[0].as<std::int64_t>(), std::move(channel),
                                                           std::move(*event), row[9].as<bool>()};
}

/// Appends to `sql` the statements that write what changed in `p` since its checkpoint (every
/// row when `added`): its version, checked against `expected` (allocation_save_product raises
/// serialization_failure when the stored version differs), its tracked changes (batches,
/// allocations, holds, backorders; final batch quantities only, so the CHECK constraint sees no
/// intermediate state) and its events to the outbox.
template <class Product>
void write_product_sql(pqxx::connection& c, const Product& p, bool added, std::uint64_t expected, std::string& sql) {
    using change = typename Product::change;
    const auto sku = detail::sql(c, p.sku());
    const auto batches = p.batches();
    if (added || p.version() != expected || p.replenishment_changed()) {
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
    // A backorder filled twice from one batch is one row of the order in it.
    const auto insert_allocation = [&](std::uint32_t i, const auto& order, const auto& qty) {
        sql += fmt::format("INSERT INTO allocations (batch_ref, orderid, qty) VALUES ({}, {}, {}) "
                           "ON CONFLICT (batch_ref, orderid) DO UPDATE SET qty = allocations.qty + "
                           "EXCLUDED.qty;\n",
                           detail::sql(c, batches[i].ref()), detail::sql(c, order), detail::sql_qty(qty));
    };
    if (added) {
        for (std::uint32_t i = 0; i < batches.size(); ++i) {
            insert_batch(i, true);
            for (const auto& a : batches[i].allocations()) insert_allocation(i, a.order, a.qty);
        }
        sql += detail::facts_insert_sql(c, p);
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
                case change::kind::hold_placed:
                case change::kind::hold_removed:
                case change::kind::hold_lapsed:
                case change::kind::backorder_added:
                case change::kind::backorder_changed:
                case change::kind::backorder_removed:
                    sql += detail::fact_change_sql(c, p, ch);
                    continue;  // no batch column changes (held stock is the holds' rows)
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
    sql += detail::outbox_insert<typename Product::traits_type>(c, p.events());
}

}  // namespace detail
}  // namespace allocation::postgres

#endif  // ALLOCATION_ADAPTERS_POSTGRES_CODEC_HPP
