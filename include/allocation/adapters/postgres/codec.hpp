// allocation — PostgreSQL adapter: domain values to SQL literals and back.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_POSTGRES_CODEC_HPP
#define ALLOCATION_ADAPTERS_POSTGRES_CODEC_HPP

#include <charconv>     // from_chars
#include <chrono>       // year_month_day
#include <concepts>     // same_as, constructible_from
#include <cstdint>      // int64_t
#include <optional>     // optional
#include <string>       // string, to_string
#include <string_view>  // string_view

#include <fmt/format.h>
#include <pqxx/pqxx>

#include <allocation/adapters/postgres/connection_pool.hpp>
#include <allocation/domain/types.hpp>

namespace allocation::postgres {

/// The domain traits the adapter can store: identifiers holding their text in `.value` and
/// made from a std::string, quantities with a count (allocation::quantity or an integer), and
/// std::chrono::year_month_day dates. allocation::default_traits is one.
template <class Traits>
concept storable_traits =
    requires(const typename Traits::sku_type& s, const typename Traits::batch_ref_type& b,
             const typename Traits::order_id_type& o) {
        { s.value } -> std::convertible_to<std::string_view>;
        { b.value } -> std::convertible_to<std::string_view>;
        { o.value } -> std::convertible_to<std::string_view>;
    } && std::constructible_from<typename Traits::sku_type, std::string> &&
    std::constructible_from<typename Traits::batch_ref_type, std::string> &&
    std::constructible_from<typename Traits::order_id_type, std::string> &&
    std::same_as<typename Traits::date_type, std::chrono::year_month_day>;

namespace detail {

template <class Id>
[[nodiscard]] auto sql(pqxx::connection& c, const Id& id) -> std::string {
    return quote(c, std::string_view(id.value));
}

template <class Q>
    requires requires(const Q& q) { allocation::detail::count(q); }
[[nodiscard]] auto sql_qty(const Q& q) -> std::string {
    return std::to_string(allocation::detail::count(q));
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

template <class Q>
[[nodiscard]] auto read_qty(const pqxx::field& f) -> Q {
    return allocation::detail::make_quantity<Q>(f.as<std::int64_t>());
}

template <class Q>
[[nodiscard]] auto read_optional_qty(const pqxx::field& f) -> std::optional<Q> {
    if (f.is_null()) return std::nullopt;
    return read_qty<Q>(f);
}

template <class Id>
[[nodiscard]] auto read_id(const pqxx::field& f) -> Id {
    return Id{std::string(f.c_str(), f.size())};
}

}  // namespace detail
}  // namespace allocation::postgres

#endif  // ALLOCATION_ADAPTERS_POSTGRES_CODEC_HPP
