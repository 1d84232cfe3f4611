// allocation — validation of identifiers and quantities, in one place: the product, the command
// handlers and applications decoding requests all ask it.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_DOMAIN_VALIDATION_HPP
#define ALLOCATION_DOMAIN_VALIDATION_HPP

#include <concepts>     // integral, convertible_to
#include <cstdint>      // int64_t
#include <string>       // string
#include <string_view>  // string_view

#include <fmt/format.h>

#include <allocation/detail/identifier.hpp>
#include <allocation/domain/traits.hpp>
#include <allocation/domain/types.hpp>
#include <allocation/error.hpp>

namespace allocation {

/// Whether `id`, an identifier of Traits, is valid: `Traits::is_valid(id)` when the traits give
/// it, else an ADL `is_valid(id)` (the library's basic_id: 1 to 255 bytes of UTF-8 without
/// control characters), else an integer above zero, else text that is_valid_identifier() takes.
template <class Traits, class Id>
[[nodiscard]] constexpr auto is_valid_id(const Id& id) noexcept -> bool {
    static_assert(has_validity_rule<Traits, Id>,
                  "allocation traits: this identifier type needs a validity rule: Traits::is_valid(id) or an "
                  "ADL is_valid(id) (integers and text have one)");
    if constexpr (traits_validates<Traits, Id>) {
        return static_cast<bool>(Traits::is_valid(id));
    } else if constexpr (detail::is_library_id_v<Id>) {
        return detail::is_valid_identifier_fast(id.view());  // the same answer as is_valid(id), faster
    } else if constexpr (adl_validates<Id>) {
        return static_cast<bool>(is_valid(id));
    } else if constexpr (std::integral<Id>) {
        return id > Id{0};
    } else {
        return detail::is_valid_identifier_fast(std::string_view(id));
    }
}

/// Whether `q` may be ordered (a line's quantity): above zero and at most max_quantity_of<Traits>().
template <class Traits>
[[nodiscard]] constexpr auto is_valid_line_quantity(const typename Traits::quantity_type& q) noexcept -> bool {
    const auto n = detail::count(q);
    return n > 0 && n <= detail::count(max_quantity_of<Traits>());
}

/// Whether `q` may be purchased in a batch (or be a replenishment level): zero to
/// max_quantity_of<Traits>().
template <class Traits>
[[nodiscard]] constexpr auto is_valid_batch_quantity(const typename Traits::quantity_type& q) noexcept -> bool {
    const auto n = detail::count(q);
    return n >= 0 && n <= detail::count(max_quantity_of<Traits>());
}

/// Whether a quantity of the default traits may be ordered: 1 to max_quantity units.
[[nodiscard]] constexpr auto is_valid_line_quantity(quantity q) noexcept -> bool {
    return is_valid_line_quantity<default_traits>(q);
}

/// Whether a quantity of the default traits may be purchased in a batch: 0 to max_quantity units.
[[nodiscard]] constexpr auto is_valid_batch_quantity(quantity q) noexcept -> bool {
    return is_valid_batch_quantity<default_traits>(q);
}

/// The same checks as results: success, or errc::invalid_identifier / errc::invalid_quantity.
namespace validate {

template <class Traits, class Id>
[[nodiscard]] auto identifier(const Id& id) noexcept -> result<void> {
    if (!is_valid_id<Traits>(id)) return errc::invalid_identifier;
    return success();
}

template <class Traits>
[[nodiscard]] auto line_quantity(const typename Traits::quantity_type& q) noexcept -> result<void> {
    if (!is_valid_line_quantity<Traits>(q)) return errc::invalid_quantity;
    return success();
}

template <class Traits>
[[nodiscard]] auto batch_quantity(const typename Traits::quantity_type& q) noexcept -> result<void> {
    if (!is_valid_batch_quantity<Traits>(q)) return errc::invalid_quantity;
    return success();
}

/// An identifier as text from outside (a request, a message), before it becomes an id of the
/// default traits: 1 to 255 bytes of UTF-8 without control characters.
[[nodiscard]] inline auto identifier_text(std::string_view text) noexcept -> result<void> {
    if (!detail::is_valid_identifier_fast(text)) return errc::invalid_identifier;
    return success();
}

/// What a valid identifier is, for people, naming the field refused (`what`): "sku must be 1 to
/// 255 bytes of UTF-8 without control characters".
[[nodiscard]] inline auto identifier_message(std::string_view what) -> std::string {
    return fmt::format("{} must be 1 to 255 bytes of UTF-8 without control characters", what);
}

/// What a valid line quantity of Traits is, for people, naming the field refused: "qty must be
/// an integer from 1 to 2147483647" (in the quantity's smallest unit).
template <class Traits = default_traits>
[[nodiscard]] auto line_quantity_message(std::string_view what) -> std::string {
    return fmt::format("{} must be an integer from 1 to {}", what, detail::count(max_quantity_of<Traits>()));
}

/// What a valid batch quantity of Traits is, for people: "qty must be an integer from 0 to
/// 2147483647" (in the quantity's smallest unit).
template <class Traits = default_traits>
[[nodiscard]] auto batch_quantity_message(std::string_view what) -> std::string {
    return fmt::format("{} must be an integer from 0 to {}", what, detail::count(max_quantity_of<Traits>()));
}

}  // namespace validate

}  // namespace allocation

#endif  // ALLOCATION_DOMAIN_VALIDATION_HPP
