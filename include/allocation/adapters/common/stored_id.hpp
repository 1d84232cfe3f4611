// allocation — how the database adapters keep an identifier: integer identifiers in integer
// columns, every other one as its text (the SQLite and PostgreSQL codecs).
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_COMMON_STORED_ID_HPP
#define ALLOCATION_ADAPTERS_COMMON_STORED_ID_HPP

#include <concepts>     // integral
#include <cstdint>      // int64_t
#include <string>       // string
#include <string_view>  // string_view
#include <utility>      // move

#include <allocation/domain/traits.hpp>

namespace allocation::detail {

/// Whether identifiers of type Id are kept in an integer column (else in a text column).
template <class Id>
inline constexpr bool integer_id = std::integral<Id>;

/// The column value of an identifier: a std::int64_t for integer ids, else its text (a basic_id,
/// a std::string, any type with a `value` string or convertible to one).
template <class Id>
[[nodiscard]] auto id_column(const Id& id) {
    if constexpr (integer_id<Id>) {
        return static_cast<std::int64_t>(id);
    } else if constexpr (requires { std::string_view(id.value); }) {
        return std::string_view(id.value);
    } else {
        return std::string_view(id);
    }
}

/// An identifier made from its stored column read as text (an integer column's value as its
/// decimal text): through allocation::id_text where the type has a text form, else constructed
/// from the text.
template <class Id>
[[nodiscard]] auto make_id(std::string text) -> Id {
    if constexpr (has_text_form<Id>) {
        return allocation::id_text<Id>::from_text(text).value_or(Id{});
    } else {
        return Id{std::move(text)};
    }
}

/// An identifier type the database adapters can store: an integer, or a type with a text form
/// (id_text) or made from a std::string that holds its text in `value` or converts to it.
template <class Id>
concept storable_id =
    integer_id<Id> || ((has_text_form<Id> || std::constructible_from<Id, std::string>) &&
                       (requires(const Id& id) { std::string_view(id.value); } || std::convertible_to<const Id&, std::string_view>));

}  // namespace allocation::detail

#endif  // ALLOCATION_ADAPTERS_COMMON_STORED_ID_HPP
