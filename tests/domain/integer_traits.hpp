// allocation tests — traits an ERP brings: 64-bit integer identifiers, a fixed-point decimal
// quantity (thousandths of a unit) and its own date type (days since 1970-01-01). Shared by the
// tests that run them through the domain, the bus and each store.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_TESTS_DOMAIN_INTEGER_TRAITS_HPP
#define ALLOCATION_TESTS_DOMAIN_INTEGER_TRAITS_HPP

#include <compare>
#include <cstdint>

#include <allocation/domain/types.hpp>

namespace erp {

/// A quantity in thousandths of a unit: {1500} is 1.5 kg.
using thousandths = allocation::basic_quantity<1000>;

/// `units` whole units and `milli` thousandths.
constexpr auto qty(std::int64_t units, std::int64_t milli = 0) noexcept -> thousandths {
    return {units * 1000 + milli};
}

/// A calendar day, counted from 1970-01-01.
struct day {
    std::int32_t number{};
    friend constexpr auto operator==(day, day) noexcept -> bool = default;
    friend constexpr auto operator<=>(day, day) noexcept = default;
};

/// Plain integer identifiers (ids <= 0 are invalid by the library's rule for integers), decimal
/// quantities up to a billion units.
struct integer_traits {
    using order_id_type = std::int64_t;
    using sku_type = std::int64_t;
    using batch_ref_type = std::int64_t;
    using quantity_type = thousandths;
    using date_type = day;
    static constexpr thousandths max_quantity = qty(1'000'000'000);
};

}  // namespace erp

#endif  // ALLOCATION_TESTS_DOMAIN_INTEGER_TRAITS_HPP
