// allocation — domain traits: what the library needs of the identifier, quantity and date types
// a user brings, stated as named concepts and checked up front with one message per piece.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_DOMAIN_TRAITS_HPP
#define ALLOCATION_DOMAIN_TRAITS_HPP

#include <charconv>     // from_chars, to_chars
#include <concepts>     // integral, regular, totally_ordered, convertible_to
#include <cstdint>      // int64_t, int32_t
#include <functional>   // hash
#include <limits>       // numeric_limits
#include <optional>     // optional
#include <string>       // string
#include <string_view>  // string_view
#include <type_traits>  // is_default_constructible_v, is_same_v

#include <fmt/format.h>

#include <allocation/domain/types.hpp>

namespace allocation {

// -- the text form of an identifier -------------------------------------------------------------

/// The text form of an identifier type, for what stores identifiers as text (the inbox of
/// processed messages, text columns): `to_text(id)` and `from_text(text)` (none when `text` is
/// not an identifier of this type). Given for integers, std::string and the library's basic_id;
/// specialize it for another identifier type that is kept as text.
template <class Id>
struct id_text;

template <std::integral Id>
struct id_text<Id> {
    [[nodiscard]] static auto to_text(Id id) -> std::string { return fmt::format("{}", id); }
    [[nodiscard]] static auto from_text(std::string_view text) -> std::optional<Id> {
        Id v{};
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
        return v;
    }
};
template <>
struct id_text<std::string> {
    [[nodiscard]] static auto to_text(const std::string& id) -> std::string { return id; }
    [[nodiscard]] static auto from_text(std::string_view text) -> std::optional<std::string> {
        return std::string(text);
    }
};
template <class Tag>
struct id_text<basic_id<Tag>> {
    [[nodiscard]] static auto to_text(const basic_id<Tag>& id) -> std::string { return id.value; }
    [[nodiscard]] static auto from_text(std::string_view text) -> std::optional<basic_id<Tag>> {
        return basic_id<Tag>{text};
    }
};

/// An identifier type with a text form (id_text).
template <class Id>
concept has_text_form = requires(const Id& id, std::string_view text) {
    { id_text<Id>::to_text(id) } -> std::convertible_to<std::string>;
    { id_text<Id>::from_text(text) } -> std::same_as<std::optional<Id>>;
};

// -- the caller's context of an order line ---------------------------------------------------------

/// The context of an order line when the traits give none.
struct no_context {
    friend constexpr auto operator==(no_context, no_context) noexcept -> bool = default;
};

namespace detail {
template <class Traits>
struct line_context_of {
    using type = no_context;
};
template <class Traits>
    requires requires { typename Traits::line_context_type; }
struct line_context_of<Traits> {
    using type = typename Traits::line_context_type;
};
}  // namespace detail

/// What a caller says about an order line beyond its order id, SKU and quantity (a ship-to
/// warehouse, a priority), carried by the allocation commands to the line a strategy places:
/// `Traits::line_context_type` when the traits give one, else no_context.
template <class Traits>
using line_context_t = typename detail::line_context_of<Traits>::type;

// -- the pieces of domain_traits ----------------------------------------------------------------

/// Traits name the five types: order_id_type, sku_type, batch_ref_type, quantity_type, date_type.
template <class T>
concept names_domain_types = requires {
    typename T::order_id_type;
    typename T::sku_type;
    typename T::batch_ref_type;
    typename T::quantity_type;
    typename T::date_type;
};

/// An identifier is a value: default-constructible (commands and events are aggregates built
/// with designated initializers), copyable and equality-comparable.
template <class Id>
concept identifier_value = std::regular<Id>;

/// std::hash<Id> is enabled: products index batches by reference and lines by order id, stores
/// index products by SKU.
template <class Id>
concept hashable_identifier = requires(const Id& id) {
    { std::hash<Id>{}(id) } -> std::convertible_to<std::size_t>;
};

/// fmt can format it: notices to purchasing and log lines name SKUs, orders and quantities.
template <class T>
concept formattable = fmt::is_formattable<T>::value;

namespace detail {
template <class Id>
inline constexpr bool is_library_id_v = false;
template <class Tag>
inline constexpr bool is_library_id_v<basic_id<Tag>> = true;
}  // namespace detail

/// `Traits::is_valid(id)` decides whether an identifier of Traits is valid.
template <class Traits, class Id>
concept traits_validates = requires(const Id& id) {
    { Traits::is_valid(id) } -> std::convertible_to<bool>;
};

/// An ADL `is_valid(id)` decides whether an identifier is valid (basic_id has one).
template <class Id>
concept adl_validates = requires(const Id& id) {
    { is_valid(id) } -> std::convertible_to<bool>;
};

/// The library knows whether an identifier is valid: by `Traits::is_valid(id)`, else by an ADL
/// `is_valid(id)`, else by its kind: an integer is valid when above zero, text (convertible to
/// std::string_view) when is_valid_identifier() says so.
template <class Traits, class Id>
concept has_validity_rule = traits_validates<Traits, Id> || adl_validates<Id> || std::integral<Id> ||
                            std::convertible_to<const Id&, std::string_view>;

/// A quantity is a count of the smallest unit (one piece, or a thousandth of a kilogram for a
/// fixed-point decimal type): an integer, or a type whose integer `.value` is that count and
/// that is built from it (`Q{n}`). Default-constructed it is zero; it adds, subtracts and
/// orders as its count does.
template <class Q>
concept quantity_value = std::regular<Q> && std::totally_ordered<Q> &&
    (std::integral<Q> || requires(const Q& q, std::int64_t n) {
        requires std::integral<std::remove_cvref_t<decltype(q.value)>>;
        { Q{n} };
    }) &&
    requires(Q a, const Q b) {
        { a + b } -> std::convertible_to<Q>;
        { a - b } -> std::convertible_to<Q>;
        { a += b };
        { a -= b };
    };

/// A date (an ETA, an expiry) is a value that orders: earlier dates first.
template <class D>
concept date_value = std::regular<D> && std::totally_ordered<D>;

/// `Traits::max_quantity`, when given, is the largest quantity a line or a batch may carry.
template <class Traits>
concept bounds_quantity = requires {
    { Traits::max_quantity } -> std::convertible_to<typename Traits::quantity_type>;
};

// -- quantities ---------------------------------------------------------------------------------

/// The largest quantity a line or a batch of Traits may carry: `Traits::max_quantity` when the
/// traits give it, else 2^31 - 1 of the smallest unit. Its count is at most 2^48, so sums over
/// any realistic number of batches stay far from overflowing 64 bits.
template <class Traits>
[[nodiscard]] constexpr auto max_quantity_of() noexcept -> typename Traits::quantity_type {
    using q = typename Traits::quantity_type;
    if constexpr (bounds_quantity<Traits>) {
        return static_cast<q>(Traits::max_quantity);
    } else {
        return detail::make_quantity<q>(max_quantity);
    }
}

/// Whether the quantity bound of Traits is usable: above zero, at most 2^48 of the smallest unit.
template <class Traits>
concept sane_quantity_bound = requires {
    requires detail::count(max_quantity_of<Traits>()) > 0;
    requires detail::count(max_quantity_of<Traits>()) <= (std::int64_t{1} << 48);
};

// -- the concept --------------------------------------------------------------------------------

/// Everything the domain, the bus and the in-memory store need of traits (the README's table).
/// Storage that keeps identifiers as text also needs has_text_form of its identifier types; the
/// stores check that where they need it.
template <class T>
concept domain_traits =
    names_domain_types<T> &&
    identifier_value<typename T::order_id_type> && identifier_value<typename T::sku_type> &&
    identifier_value<typename T::batch_ref_type> &&
    std::totally_ordered<typename T::sku_type> &&
    hashable_identifier<typename T::order_id_type> && hashable_identifier<typename T::sku_type> &&
    hashable_identifier<typename T::batch_ref_type> &&
    formattable<typename T::order_id_type> && formattable<typename T::sku_type> &&
    formattable<typename T::batch_ref_type> && formattable<typename T::quantity_type> &&
    has_validity_rule<T, typename T::order_id_type> && has_validity_rule<T, typename T::sku_type> &&
    has_validity_rule<T, typename T::batch_ref_type> &&
    quantity_value<typename T::quantity_type> && sane_quantity_bound<T> &&
    date_value<typename T::date_type>;

namespace detail {

/// domain_traits<T>, with one static_assert per piece, so that a compiler names the piece that
/// is missing instead of failing deep inside the standard library or fmt.
template <class T>
consteval auto check_traits() -> bool {
    static_assert(names_domain_types<T>,
                  "allocation traits: name the member types order_id_type, sku_type, batch_ref_type, "
                  "quantity_type and date_type");
    if constexpr (names_domain_types<T>) {
        using order = typename T::order_id_type;
        using sku = typename T::sku_type;
        using ref = typename T::batch_ref_type;
        using qty = typename T::quantity_type;
        static_assert(identifier_value<order>,
                      "allocation traits: order_id_type must be default-constructible, copyable and "
                      "equality-comparable (std::regular)");
        static_assert(identifier_value<sku>,
                      "allocation traits: sku_type must be default-constructible, copyable and "
                      "equality-comparable (std::regular)");
        static_assert(identifier_value<ref>,
                      "allocation traits: batch_ref_type must be default-constructible, copyable and "
                      "equality-comparable (std::regular)");
        static_assert(std::totally_ordered<sku>,
                      "allocation traits: sku_type needs operator< (orders take products in SKU order)");
        static_assert(hashable_identifier<order>, "allocation traits: std::hash<order_id_type> is not enabled");
        static_assert(hashable_identifier<sku>, "allocation traits: std::hash<sku_type> is not enabled");
        static_assert(hashable_identifier<ref>, "allocation traits: std::hash<batch_ref_type> is not enabled");
        static_assert(formattable<order>, "allocation traits: order_id_type needs a fmt::formatter");
        static_assert(formattable<sku>, "allocation traits: sku_type needs a fmt::formatter");
        static_assert(formattable<ref>, "allocation traits: batch_ref_type needs a fmt::formatter");
        static_assert(formattable<qty>, "allocation traits: quantity_type needs a fmt::formatter");
        static_assert(has_validity_rule<T, order>,
                      "allocation traits: order_id_type needs a validity rule: Traits::is_valid(id) or an ADL "
                      "is_valid(id) (integers and text have one)");
        static_assert(has_validity_rule<T, sku>,
                      "allocation traits: sku_type needs a validity rule: Traits::is_valid(id) or an ADL "
                      "is_valid(id) (integers and text have one)");
        static_assert(has_validity_rule<T, ref>,
                      "allocation traits: batch_ref_type needs a validity rule: Traits::is_valid(id) or an ADL "
                      "is_valid(id) (integers and text have one)");
        static_assert(quantity_value<qty>,
                      "allocation traits: quantity_type must be an integer or hold its integer count in .value, "
                      "be built from it, default to zero, add, subtract and order");
        if constexpr (quantity_value<qty>) {
            static_assert(sane_quantity_bound<T>,
                          "allocation traits: max_quantity must be above zero and at most 2^48 of the smallest unit");
        }
        static_assert(date_value<typename T::date_type>,
                      "allocation traits: date_type must be a copyable, totally ordered value");
    }
    return domain_traits<T>;
}

}  // namespace detail

static_assert(domain_traits<default_traits>);

}  // namespace allocation

#endif  // ALLOCATION_DOMAIN_TRAITS_HPP
