// allocation — strong types for identifiers, quantities and dates, and the domain traits.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_DOMAIN_TYPES_HPP
#define ALLOCATION_DOMAIN_TYPES_HPP

#include <chrono>       // year_month_day
#include <compare>      // strong_ordering
#include <concepts>     // same_as
#include <cstddef>      // size_t
#include <cstdint>      // int64_t
#include <functional>   // hash
#include <limits>       // numeric_limits
#include <optional>     // optional
#include <string>       // string
#include <string_view>  // string_view
#include <utility>      // move

#include <fmt/format.h>

namespace allocation {

/// A string identifier that cannot be mixed up with another kind of identifier.
/// @tparam Tag an empty type naming the kind (SKU, batch reference, order id).
template <class Tag>
struct basic_id {
    std::string value;

    basic_id() = default;
    explicit basic_id(std::string v) noexcept : value(std::move(v)) {}
    explicit basic_id(std::string_view v) : value(v) {}
    explicit basic_id(const char* v) : value(v) {}

    [[nodiscard]] auto view() const noexcept -> std::string_view { return value; }
    [[nodiscard]] auto empty() const noexcept -> bool { return value.empty(); }

    friend auto operator==(const basic_id&, const basic_id&) -> bool = default;
    friend auto operator<=>(const basic_id&, const basic_id&) = default;
};

using sku = basic_id<struct sku_tag>;
using batch_ref = basic_id<struct batch_ref_tag>;
using order_id = basic_id<struct order_id_tag>;

/// The largest quantity a line or a batch of the default traits may carry (2^31 - 1 units), and
/// the bound of traits that give none (see max_quantity_of).
inline constexpr std::int64_t max_quantity = std::numeric_limits<std::int32_t>::max();

/// A quantity counted in 1/Scale of a unit: basic_quantity<1> counts pieces, basic_quantity<1000>
/// is a fixed-point decimal with three digits (grams of a product sold by the kilogram). Signed,
/// so that a broken invariant shows as a negative number instead of wrapping around.
/// @tparam Scale how many counts make one unit: 1 or a power of ten.
template <std::int64_t Scale>
struct basic_quantity {
    static_assert(Scale >= 1, "a quantity counts at least whole units");
    static constexpr std::int64_t scale = Scale;
    std::int64_t value{};  ///< the count, in 1/Scale units

    friend constexpr auto operator==(basic_quantity, basic_quantity) noexcept -> bool = default;
    friend constexpr auto operator<=>(basic_quantity, basic_quantity) noexcept = default;
    friend constexpr auto operator+(basic_quantity a, basic_quantity b) noexcept -> basic_quantity {
        return {a.value + b.value};
    }
    friend constexpr auto operator-(basic_quantity a, basic_quantity b) noexcept -> basic_quantity {
        return {a.value - b.value};
    }
    constexpr auto operator+=(basic_quantity o) noexcept -> basic_quantity& { value += o.value; return *this; }
    constexpr auto operator-=(basic_quantity o) noexcept -> basic_quantity& { value -= o.value; return *this; }
};

/// A number of whole units, the quantity of the default traits.
using quantity = basic_quantity<1>;

/// The date type of the default traits: a calendar day, as an ETA or an expiry date.
using date = std::chrono::year_month_day;

/// A moment, to the millisecond, in UTC: when a hold expires, what a clock says (ports/clock.hpp).
using timestamp = std::chrono::sys_time<std::chrono::milliseconds>;

/// The types a domain model is built from. A user can supply their own traits type: what it must
/// provide is the concept domain_traits (domain/traits.hpp).
struct default_traits {
    using order_id_type = order_id;
    using sku_type = sku;
    using batch_ref_type = batch_ref;
    using quantity_type = quantity;
    using date_type = date;
    static constexpr quantity_type max_quantity{allocation::max_quantity};
};

/// Whether `text` is a valid identifier: 1 to 255 bytes of well-formed UTF-8 without control
/// characters.
[[nodiscard]] constexpr auto is_valid_identifier(std::string_view text) noexcept -> bool {
    if (text.empty() || text.size() > 255) return false;
    std::size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x20 || c == 0x7f) return false;
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t extra = 0;
        std::uint32_t code = 0;
        if ((c & 0xe0) == 0xc0) {
            extra = 1;
            code = c & 0x1fu;
        } else if ((c & 0xf0) == 0xe0) {
            extra = 2;
            code = c & 0x0fu;
        } else if ((c & 0xf8) == 0xf0) {
            extra = 3;
            code = c & 0x07u;
        } else {
            return false;
        }
        if (i + extra >= text.size()) return false;
        for (std::size_t k = 1; k <= extra; ++k) {
            const auto cc = static_cast<unsigned char>(text[i + k]);
            if ((cc & 0xc0) != 0x80) return false;
            code = (code << 6) | (cc & 0x3fu);
        }
        constexpr std::uint32_t min_for[] = {0, 0x80, 0x800, 0x10000};
        if (code < min_for[extra] || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return false;
        if (code >= 0x80 && code < 0xa0) return false;  // C1 control characters
        i += extra + 1;
    }
    return true;
}

/// Whether a strong identifier is valid; see is_valid_identifier(std::string_view).
template <class Tag>
[[nodiscard]] constexpr auto is_valid(const basic_id<Tag>& id) noexcept -> bool {
    return is_valid_identifier(id.value);
}

namespace detail {
/// The raw count of a quantity type, whether it is `quantity` or a plain integer.
template <class Q>
[[nodiscard]] constexpr auto count(const Q& q) noexcept -> std::int64_t {
    if constexpr (requires { q.value; }) {
        return static_cast<std::int64_t>(q.value);
    } else {
        return static_cast<std::int64_t>(q);
    }
}
template <class Q>
[[nodiscard]] constexpr auto make_quantity(std::int64_t n) noexcept -> Q {
    if constexpr (requires { Q{n}.value; }) {
        return Q{n};
    } else {
        return static_cast<Q>(n);
    }
}
}  // namespace detail

}  // namespace allocation

template <class Tag>
struct std::hash<allocation::basic_id<Tag>> {
    auto operator()(const allocation::basic_id<Tag>& id) const noexcept -> std::size_t {
        return std::hash<std::string_view>{}(id.value);
    }
};

template <class Tag>
struct fmt::formatter<allocation::basic_id<Tag>> : fmt::formatter<std::string_view> {
    auto format(const allocation::basic_id<Tag>& id, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(id.value, ctx);
    }
};

/// Whole units as an integer; a decimal quantity with its fraction digits ("1.250").
template <std::int64_t Scale>
struct fmt::formatter<allocation::basic_quantity<Scale>> : fmt::formatter<std::string_view> {
    auto format(allocation::basic_quantity<Scale> q, fmt::format_context& ctx) const {
        int digits = 0;
        for (auto s = Scale; s > 1; s /= 10) ++digits;
        const auto magnitude = q.value < 0 ? -q.value : q.value;
        const auto text =
            fmt::format("{}{}.{:0{}}", q.value < 0 ? "-" : "", magnitude / Scale, magnitude % Scale, digits);
        return fmt::formatter<std::string_view>::format(text, ctx);
    }
};
template <>
struct fmt::formatter<allocation::quantity> : fmt::formatter<std::int64_t> {
    auto format(allocation::quantity q, fmt::format_context& ctx) const {
        return fmt::formatter<std::int64_t>::format(q.value, ctx);
    }
};

template <>
struct fmt::formatter<allocation::date> : fmt::formatter<std::string_view> {
    auto format(const allocation::date& d, fmt::format_context& ctx) const {
        const auto text = fmt::format("{:04}-{:02}-{:02}", static_cast<int>(d.year()),
                                      static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
        return fmt::formatter<std::string_view>::format(text, ctx);
    }
};

#endif  // ALLOCATION_DOMAIN_TYPES_HPP
