// allocation — PostgreSQL adapter: the codec, how products and events are rows: domain values
// to SQL literals and back, a product from its rows, and the outbox row's columns.
//
// Everything that knows which product fact goes to which table is here and in schema.hpp:
// write_product_sql() turns tracked changes into statements (those of holds and backorders by
// fact_change_sql()), record_rows() the common ones into the rows of the grouped store's
// multi-row statements. Every write is a statement prepared once per connection
// (write_definitions, rows_definitions) and run by name. A new product-level fact (holds and
// backorders are one) is a migration in schema.hpp, its rows in product_select() and
// decode_product(), and its write statements and their use in fact_change_sql() and
// facts_insert_sql().
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_POSTGRES_CODEC_HPP
#define ALLOCATION_ADAPTERS_POSTGRES_CODEC_HPP

#include <algorithm>    // sort, unique
#include <array>        // array
#include <charconv>     // from_chars
#include <cstddef>      // size_t
#include <chrono>       // year_month_day
#include <concepts>     // same_as
#include <cstdint>      // int64_t
#include <iterator>     // back_inserter
#include <optional>     // optional
#include <span>         // span
#include <string>       // string, to_string
#include <string_view>  // string_view
#include <tuple>        // apply
#include <unordered_map>  // unordered_map
#include <unordered_set>  // unordered_set
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

/// The statements a commit writes with, each prepared once per connection (prepare_writes())
/// and run by name from the commit's SQL text (execute()): the server parses and plans each once
/// per connection, not once per command. Parameters in the order of their columns.
enum class write_statement {
    save_product,        ///< allocation_save_product: version check and update, rule
    add_product,         ///< a new product's row
    add_batch,           ///< a batch's row
    allocate,            ///< an allocation (a line filled twice from one batch adds up)
    deallocate,          ///< an allocation removed, by (batch, order)
    batch_quantities,    ///< a batch's final purchased and allocated quantities, by reference
    place_hold,          ///< a hold's row
    remove_hold,         ///< a hold removed, by (sku, order, sequence)
    add_backorder,       ///< a backorder's row
    change_backorder,    ///< a backorder's remaining quantity, by (sku, order)
    remove_backorder,    ///< a backorder removed, by (sku, order, sequence)
    add_event,           ///< an outbox row: channel, sku, order, batch, qty, qty2, eta, reason
    record_processed,    ///< an inbox row: message id, result
};

struct write_definition {
    std::string_view name;
    std::string_view text;
};

inline constexpr std::array<write_definition, 13> write_definitions = {{
    {"allocation_save_product", "SELECT allocation_save_product($1, $2, $3, $4, $5, $6)"},
    {"allocation_add_product",
     "INSERT INTO products (sku, version, reorder_point, max_level, multiple) VALUES ($1, $2, $3, $4, $5)"},
    {"allocation_add_batch",
     "INSERT INTO batches (ref, sku, position, purchased, allocated, eta, expires) VALUES ($1, $2, $3, $4, $5, $6, $7)"},
    {"allocation_allocate",
     "INSERT INTO allocations (batch_ref, orderid, qty) VALUES ($1, $2, $3) "
     "ON CONFLICT (batch_ref, orderid) DO UPDATE SET qty = allocations.qty + EXCLUDED.qty"},
    {"allocation_deallocate", "DELETE FROM allocations WHERE batch_ref = $1 AND orderid = $2"},
    {"allocation_batch_quantities", "UPDATE batches SET purchased = $2, allocated = $3 WHERE ref = $1"},
    {"allocation_place_hold",
     "INSERT INTO holds (sku, orderid, batch_ref, qty, expires_at, lines, sequence) VALUES ($1, $2, $3, $4, $5, $6, $7)"},
    {"allocation_remove_hold", "DELETE FROM holds WHERE sku = $1 AND orderid = $2 AND sequence = $3"},
    {"allocation_add_backorder",
     "INSERT INTO backorders (sku, orderid, qty, priority, sequence) VALUES ($1, $2, $3, $4, $5)"},
    {"allocation_change_backorder", "UPDATE backorders SET qty = $3 WHERE sku = $1 AND orderid = $2"},
    {"allocation_remove_backorder", "DELETE FROM backorders WHERE sku = $1 AND orderid = $2 AND sequence = $3"},
    {"allocation_add_event",
     "INSERT INTO outbox (channel, sku, orderid, batchref, qty, qty2, eta, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"},
    {"allocation_record_processed", "INSERT INTO inbox (message_id, result) VALUES ($1, $2)"},
}};

/// Prepares `definitions` on `c`, each the first time only (libpqxx remembers which a
/// connection has). Throws what libpqxx throws.
template <std::size_t N>
void prepare(pqxx::connection& c, const std::array<write_definition, N>& definitions) {
    for (const auto& [name, text] : definitions) {
        const std::string key(name);
        c.prepare(key, std::string(text));
        c.prepare_now(key);
    }
}

/// Prepares the write statements on `c` (see prepare()). Call it before running SQL text made by
/// execute() on `c`, once the schema exists.
inline void prepare_writes(pqxx::connection& c) { prepare(c, write_definitions); }

/// Appends to `out` the statement that runs the prepared statement `name` with `args` (SQL
/// literals, or values formatted as they are: integers).
template <class... Args>
void execute(std::string& out, std::string_view name, const Args&... args) {
    out += "EXECUTE ";
    out += name;
    out += '(';
    const char* separator = "";
    ((fmt::format_to(std::back_inserter(out), "{}{}", separator, args), separator = ", "), ...);
    out += ");\n";
}

/// Appends to `out` the statement that runs write statement `w` with `args`.
template <class... Args>
void execute(std::string& out, write_statement w, const Args&... args) {
    execute(out, write_definitions[static_cast<std::size_t>(w)].name, args...);
}

/// Appends to `out` the inbox row of message `id` with its result `text`.
inline void record_processed_sql(pqxx::connection& c, const std::string& id, const std::string& text, std::string& out) {
    execute(out, write_statement::record_processed, quote(c, id), quote(c, text));
}

/// Appends to `out` the row of a hold of product `p`.
template <class Product>
void place_hold_sql(pqxx::connection& c, const Product& p, const typename Product::hold_type& h, std::string& out) {
    execute(out, write_statement::place_hold, sql(c, p.sku()), sql(c, h.order), sql(c, h.batch),
            sql_qty(h.qty), allocation::detail::stored_time(h.expires_at), h.lines, h.sequence);
}

/// Appends to `out` the row of a backorder of product `p`.
template <class Product>
void add_backorder_sql(pqxx::connection& c, const Product& p, const typename Product::backorder_type& b,
                       std::string& out) {
    execute(out, write_statement::add_backorder, sql(c, p.sku()), sql(c, b.order), sql_qty(b.qty), b.priority,
            b.sequence);
}

/// Appends to `out` the statements storing a tracked change of a hold or a backorder of `p`
/// (nothing for the other kinds, and for hold_lapsed: the stored hold has its deadline).
template <class Product>
void fact_change_sql(pqxx::connection& c, const Product& p, const typename Product::change& ch, std::string& out) {
    using kind = typename Product::change::kind;
    switch (ch.what) {
        case kind::hold_placed:
            place_hold_sql(c, p, p.tracked_hold(ch), out);
            return;
        case kind::hold_removed: {
            const auto& h = p.tracked_hold(ch);
            execute(out, write_statement::remove_hold, sql(c, p.sku()), sql(c, h.order), h.sequence);
            return;
        }
        case kind::backorder_added:
            add_backorder_sql(c, p, p.tracked_backorder(ch), out);
            return;
        case kind::backorder_changed:
            execute(out, write_statement::change_backorder, sql(c, p.sku()), sql(c, ch.order), sql_qty(ch.qty));
            return;
        case kind::backorder_removed: {
            const auto& b = p.tracked_backorder(ch);
            execute(out, write_statement::remove_backorder, sql(c, p.sku()), sql(c, b.order), b.sequence);
            return;
        }
        default:
            return;
    }
}

/// Appends to `out` the rows of every hold and backorder of a new product.
template <class Product>
void facts_insert_sql(pqxx::connection& c, const Product& p, std::string& out) {
    if (p.holds().empty() && p.backorder_count() == 0) return;
    const auto facts = p.facts();
    for (const auto& h : facts.holds) place_hold_sql(c, p, h, out);
    for (const auto& b : facts.backorders) add_backorder_sql(c, p, b, out);
}

/// The columns of the outbox's reads, as read_outbox_record() takes them.
inline constexpr std::string_view outbox_columns =
    "id, channel, sku, orderid, batchref, qty, qty2, to_char(eta, 'YYYY-MM-DD'), reason, sent";

/// Appends to `out` the outbox rows of `events`.
template <class Traits, class Range>
void events_sql(pqxx::connection& c, const Range& evs, std::string& out) {
    for (const events::basic_event<Traits>& e : evs) {
        const auto row = allocation::detail::to_outbox_row(e);
        execute(out, write_statement::add_event, quote(c, row.channel), sql(c, row.sku), sql(c, row.order),
                sql(c, row.batch), sql_qty(row.qty), sql_qty(row.qty2), sql_date(row.eta),
                row.reason ? quote(c, *row.reason) : std::string("NULL"));
    }
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

/// Appends to `out` the statements that write what changed in `p` since its checkpoint (every
/// row when `added`, but for its products row): its version, checked against `expected`
/// (allocation_save_product raises serialization_failure when the stored version differs), its
/// tracked changes (batches, allocations, holds, backorders; final batch quantities only, so the
/// CHECK constraint sees no intermediate state) and its events to the outbox. The statements are
/// write statements: prepare_writes() must have run on the connection that runs them.
template <class Product>
void write_product_sql(pqxx::connection& c, const Product& p, bool added, std::uint64_t expected, std::string& out) {
    using change = typename Product::change;
    const auto sku = detail::sql(c, p.sku());
    const auto batches = p.batches();
    if (added || p.version() != expected || p.replenishment_changed()) {
        const auto& rule = p.replenishment();
        execute(out, write_statement::save_product, sku, expected, p.version(), sql_qty(rule.reorder_point),
                sql_qty(rule.max_level), sql_qty(rule.multiple));
    }
    const auto add_batch = [&](std::uint32_t i, bool with_allocated) {
        const auto& b = batches[i];
        execute(out, write_statement::add_batch, sql(c, b.ref()), sku, i, sql_qty(b.purchased()),
                with_allocated ? sql_qty(b.allocated()) : std::string("0"), sql_date(b.eta()), sql_date(b.expires()));
    };
    const auto allocate = [&](std::uint32_t i, const auto& order, const auto& qty) {
        execute(out, write_statement::allocate, sql(c, batches[i].ref()), sql(c, order), sql_qty(qty));
    };
    if (added) {
        for (std::uint32_t i = 0; i < batches.size(); ++i) {
            add_batch(i, true);
            for (const auto& a : batches[i].allocations()) allocate(i, a.order, a.qty);
        }
        facts_insert_sql(c, p, out);
    } else {
        std::vector<std::uint32_t> touched;
        for (const auto& ch : p.changes()) {
            switch (ch.what) {
                case change::kind::batch_added:
                    add_batch(ch.batch, false);
                    break;
                case change::kind::allocated:
                    allocate(ch.batch, ch.order, ch.qty);
                    break;
                case change::kind::deallocated:
                    execute(out, write_statement::deallocate, sql(c, batches[ch.batch].ref()), sql(c, ch.order));
                    break;
                case change::kind::quantity_changed:
                    break;
                case change::kind::hold_placed:
                case change::kind::hold_removed:
                case change::kind::hold_lapsed:
                case change::kind::backorder_added:
                case change::kind::backorder_changed:
                case change::kind::backorder_removed:
                    fact_change_sql(c, p, ch, out);
                    continue;  // no batch column changes (held stock is the holds' rows)
            }
            touched.push_back(ch.batch);
        }
        std::sort(touched.begin(), touched.end());
        touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
        // Final quantities only, so the CHECK constraint sees no intermediate state.
        for (const auto i : touched) {
            const auto& b = batches[i];
            execute(out, write_statement::batch_quantities, sql(c, b.ref()), sql_qty(b.purchased()),
                    sql_qty(b.allocated()));
        }
    }
    events_sql<typename Product::traits_type>(c, p.events(), out);
}

/// Appends to `out` the row of product `p`, new, with its replenishment rule (write_product_sql()
/// with `added` writes the rest).
template <class Product>
void add_product_sql(pqxx::connection& c, const Product& p, std::string& out) {
    const auto& rule = p.replenishment();
    execute(out, write_statement::add_product, sql(c, p.sku()), p.version(), sql_qty(rule.reorder_point),
            sql_qty(rule.max_level), sql_qty(rule.multiple));
}

/// The writes of one commit as rows, for the multi-row statements of the grouped store
/// (rows_sql()): each value as its text in an array literal (none: NULL). A commit whose
/// changes these carry (record_rows()) is written by one statement per table for a whole group
/// of commits, instead of a few statements per commit.
struct set_rows {
    using value = std::optional<std::string>;
    struct product_row {  // a product's new version and replenishment rule
        std::string sku, version;
        value reorder_point, max_level, multiple;
    };
    struct allocation_row {  // an allocation made (one per batch and order: quantities summed)
        std::string batch, order, qty;
    };
    struct batch_row {  // a batch's final quantities
        std::string ref, purchased, allocated;
    };
    struct event_row {  // an outbox row
        std::string channel;
        value sku, order, batch, qty, qty2, eta, reason;
    };
    struct inbox_row {  // a message id processed, with its result
        std::string id, result;
    };
    std::vector<product_row> products;
    std::vector<allocation_row> allocations;
    std::vector<batch_row> batches;
    std::vector<event_row> events;
    std::vector<inbox_row> inbox;
};

/// The text of an identifier as an array element.
template <class Id>
[[nodiscard]] auto id_text(const Id& id) -> std::string {
    if constexpr (allocation::detail::integer_id<Id>) {
        return std::to_string(allocation::detail::id_column(id));
    } else {
        return std::string(allocation::detail::id_column(id));
    }
}
template <class Id>
[[nodiscard]] auto id_text(const std::optional<Id>& id) -> set_rows::value {
    return id ? set_rows::value(id_text(*id)) : std::nullopt;
}

/// The text of a quantity as an array element, in the unit of its column.
template <class Q>
[[nodiscard]] auto qty_text(const std::optional<Q>& q) -> set_rows::value {
    return q ? set_rows::value(sql_qty(*q)) : std::nullopt;
}

/// The text of a date as an array element.
[[nodiscard]] inline auto date_text(const std::optional<std::chrono::year_month_day>& d) -> set_rows::value {
    if (!d) return std::nullopt;
    return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(d->year()), static_cast<unsigned>(d->month()),
                       static_cast<unsigned>(d->day()));
}

/// Records in `rows` what write_product_sql() would write for `p` (held, not added) and returns
/// true, when every tracked change of `p` is one the rows carry: allocations made and batch
/// quantities changed. Returns false, and records nothing, for any other change (a batch added,
/// an allocation removed, a hold or a backorder).
template <class Product>
auto record_rows(const Product& p, std::uint64_t expected, set_rows& rows) -> bool {
    using change = typename Product::change;
    using q = typename Product::quantity_type;
    for (const auto& ch : p.changes()) {
        if (ch.what != change::kind::allocated && ch.what != change::kind::quantity_changed &&
            ch.what != change::kind::hold_lapsed) {
            return false;
        }
    }
    const auto batches = p.batches();
    if (p.version() != expected || p.replenishment_changed()) {
        const auto& rule = p.replenishment();
        rows.products.push_back({id_text(p.sku()), std::to_string(p.version()), qty_text(rule.reorder_point),
                                 qty_text(rule.max_level), qty_text(rule.multiple)});
    }
    struct made {
        std::uint32_t batch;
        const typename Product::order_id_type* order;
        q qty;
    };
    std::vector<made> allocations;
    std::vector<std::uint32_t> touched;
    for (const auto& ch : p.changes()) {
        if (ch.what == change::kind::hold_lapsed) continue;  // the stored hold has its deadline
        touched.push_back(ch.batch);
        if (ch.what != change::kind::allocated) continue;
        // A backorder filled twice from one batch is one row of the order in it.
        const auto same = std::find_if(allocations.begin(), allocations.end(),
                                       [&](const made& m) { return m.batch == ch.batch && *m.order == ch.order; });
        if (same != allocations.end()) {
            same->qty = same->qty + ch.qty;
        } else {
            allocations.push_back({ch.batch, &ch.order, ch.qty});
        }
    }
    for (const auto& m : allocations) {
        rows.allocations.push_back({id_text(batches[m.batch].ref()), id_text(*m.order), sql_qty(m.qty)});
    }
    std::sort(touched.begin(), touched.end());
    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
    for (const auto i : touched) {
        const auto& b = batches[i];
        rows.batches.push_back({id_text(b.ref()), sql_qty(b.purchased()), sql_qty(b.allocated())});
    }
    for (const auto& e : p.events()) {
        auto row = allocation::detail::to_outbox_row(e);
        rows.events.push_back({std::move(row.channel), id_text(row.sku), id_text(row.order), id_text(row.batch),
                               qty_text(row.qty), qty_text(row.qty2), date_text(row.eta), std::move(row.reason)});
    }
    return true;
}

/// The multi-row statements, each prepared once per connection (prepare_rows()), formatted with
/// the column types of `Traits`: the arrays of set_rows in, one statement per table. Products
/// and batches are updated to the values of the rows (their rows locked by the caller); the
/// allocations and the outbox rows are inserted in the order of the arrays.
template <class Traits>
[[nodiscard]] auto rows_definitions() -> const std::array<write_definition, 5>& {
    static const auto texts = [] {
        const auto types = [](std::string_view text) {
            return fmt::format(fmt::runtime(text), fmt::arg("sku", id_column_type<typename Traits::sku_type>),
                               fmt::arg("ref", id_column_type<typename Traits::batch_ref_type>),
                               fmt::arg("order", id_column_type<typename Traits::order_id_type>),
                               fmt::arg("qty", qty_column_type<typename Traits::quantity_type>()));
        };
        return std::array<std::string, 5>{
            types("UPDATE products AS p SET version = u.version, reorder_point = u.reorder_point, "
                  "max_level = u.max_level, multiple = u.multiple "
                  "FROM unnest($1::{sku}[], $2::bigint[], $3::{qty}[], $4::{qty}[], $5::{qty}[]) "
                  "AS u(sku, version, reorder_point, max_level, multiple) WHERE p.sku = u.sku"),
            types("INSERT INTO allocations (batch_ref, orderid, qty) SELECT batch_ref, orderid, qty "
                  "FROM unnest($1::{ref}[], $2::{order}[], $3::{qty}[]) WITH ORDINALITY AS u(batch_ref, orderid, qty, n) "
                  "ORDER BY n ON CONFLICT (batch_ref, orderid) DO UPDATE SET qty = allocations.qty + EXCLUDED.qty"),
            types("UPDATE batches AS b SET purchased = u.purchased, allocated = u.allocated "
                  "FROM unnest($1::{ref}[], $2::{qty}[], $3::{qty}[]) AS u(ref, purchased, allocated) "
                  "WHERE b.ref = u.ref"),
            types("INSERT INTO outbox (channel, sku, orderid, batchref, qty, qty2, eta, reason) "
                  "SELECT channel, sku, orderid, batchref, qty, qty2, eta, reason "
                  "FROM unnest($1::text[], $2::{sku}[], $3::{order}[], $4::{ref}[], $5::{qty}[], $6::{qty}[], "
                  "$7::date[], $8::text[]) WITH ORDINALITY AS e(channel, sku, orderid, batchref, qty, qty2, eta, reason, n) "
                  "ORDER BY n"),
            types("INSERT INTO inbox (message_id, result) SELECT * FROM unnest($1::text[], $2::text[])"),
        };
    }();
    static const std::array<write_definition, 5> definitions = {{
        {"allocation_rows_products", texts[0]},
        {"allocation_rows_allocations", texts[1]},
        {"allocation_rows_batches", texts[2]},
        {"allocation_rows_events", texts[3]},
        {"allocation_rows_inbox", texts[4]},
    }};
    return definitions;
}

/// Prepares the write statements and the multi-row statements of `Traits` on `c` (see
/// prepare_writes()).
template <class Traits>
void prepare_rows(pqxx::connection& c) {
    prepare_writes(c);
    prepare(c, rows_definitions<Traits>());
}

/// An array literal being written: its elements' texts, quoted for the array syntax.
class array_literal {
public:
    void add(std::string_view text) {
        text_ += text_.size() > 1 ? ",\"" : "\"";
        for (const char ch : text) {
            if (ch == '"' || ch == '\\') text_ += '\\';
            text_ += ch;
        }
        text_ += '"';
    }
    void add(const std::string& text) { add(std::string_view(text)); }
    void add(const set_rows::value& v) {
        if (v) {
            add(std::string_view(*v));
        } else {
            text_ += text_.size() > 1 ? ",NULL" : "NULL";
        }
    }
    /// The array as an SQL string literal.
    [[nodiscard]] auto sql(pqxx::connection& c) const -> std::string { return quote(c, text_ + "}"); }

private:
    std::string text_ = "{";
};

/// Appends to `out` the multi-row statements writing every set of `sets`, in their order, or
/// returns false (and appends nothing) when two of them make an allocation of one order in one
/// batch (the statement could not insert both). A product or a batch in several sets takes the
/// values of the last. The statements are those of prepare_rows(), which must have run on `c`.
template <class Traits>
auto rows_sql(pqxx::connection& c, std::span<const set_rows* const> sets, std::string& out) -> bool {
    // The last row of each key, in the order the keys first appear.
    const auto keep_last = [](const auto& rows, const auto& key, auto& at, auto& last) {
        for (const auto& row : rows) {
            const auto [it, added] = at.emplace(key(row), last.size());
            if (added) {
                last.push_back(&row);
            } else {
                last[it->second] = &row;
            }
        }
    };
    std::unordered_map<std::string_view, std::size_t> product_at;
    std::unordered_map<std::string_view, std::size_t> batch_at;
    std::unordered_set<std::string> allocated;
    std::vector<const set_rows::product_row*> products;
    std::vector<const set_rows::batch_row*> batches;
    std::vector<const set_rows::allocation_row*> allocations;
    std::vector<const set_rows::event_row*> events;
    std::vector<const set_rows::inbox_row*> inbox;
    for (const auto* s : sets) {
        for (const auto& a : s->allocations) {
            if (sets.size() > 1 && !allocated.insert(a.batch + '\0' + a.order).second) return false;
            allocations.push_back(&a);
        }
        keep_last(s->products, [](const auto& p) { return std::string_view(p.sku); }, product_at, products);
        keep_last(s->batches, [](const auto& b) { return std::string_view(b.ref); }, batch_at, batches);
        for (const auto& e : s->events) events.push_back(&e);
        for (const auto& r : s->inbox) inbox.push_back(&r);
    }
    // Statement `i` of rows_definitions() on `rows`, one array of each of their `fields`.
    const auto write = [&](std::size_t i, const auto& rows, auto... fields) {
        if (rows.empty()) return;
        std::array<array_literal, sizeof...(fields)> columns;
        for (const auto* row : rows) {
            std::size_t column = 0;
            (columns[column++].add(row->*fields), ...);
        }
        std::apply([&](const auto&... column) { execute(out, rows_definitions<Traits>()[i].name, column.sql(c)...); },
                   columns);
    };
    using product_row = set_rows::product_row;
    using allocation_row = set_rows::allocation_row;
    using batch_row = set_rows::batch_row;
    using event_row = set_rows::event_row;
    write(0, products, &product_row::sku, &product_row::version, &product_row::reorder_point, &product_row::max_level,
          &product_row::multiple);
    write(1, allocations, &allocation_row::batch, &allocation_row::order, &allocation_row::qty);
    write(2, batches, &batch_row::ref, &batch_row::purchased, &batch_row::allocated);
    write(3, events, &event_row::channel, &event_row::sku, &event_row::order, &event_row::batch, &event_row::qty,
          &event_row::qty2, &event_row::eta, &event_row::reason);
    write(4, inbox, &set_rows::inbox_row::id, &set_rows::inbox_row::result);
    return true;
}

}  // namespace detail
}  // namespace allocation::postgres

#endif  // ALLOCATION_ADAPTERS_POSTGRES_CODEC_HPP
