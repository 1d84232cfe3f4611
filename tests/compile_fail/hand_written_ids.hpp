// allocation — compile-fail tests: what the tests' hand-written identifier types share (a hash
// and a formatter over their `int n` member), traits naming them, and the product each test
// asks for. Each test leaves one requirement out and expects its message.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_TESTS_COMPILE_FAIL_HAND_WRITTEN_IDS_HPP
#define ALLOCATION_TESTS_COMPILE_FAIL_HAND_WRITTEN_IDS_HPP

#include <allocation/allocation.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>

namespace compile_fail {

/// std::hash of an id type with an `int n` member.
template <class Id>
struct int_hash {
    auto operator()(const Id& id) const noexcept -> std::size_t { return std::hash<int>{}(id.n); }
};

/// fmt::formatter of an id type with an `int n` member.
template <class Id>
struct int_formatter : fmt::formatter<int> {
    auto format(const Id& id, fmt::format_context& ctx) const { return fmt::formatter<int>::format(id.n, ctx); }
};

/// Traits of the given types; integers and the library's quantity and date elsewhere.
template <class Sku = std::int64_t, class Order = std::int64_t, class Ref = std::int64_t,
          class Quantity = allocation::quantity>
struct traits {
    using order_id_type = Order;
    using sku_type = Sku;
    using batch_ref_type = Ref;
    using quantity_type = Quantity;
    using date_type = allocation::date;
};

/// A product of `Traits`: where the missing requirement is named.
template <class Traits>
void make_product() {
    using product = allocation::basic_product<allocation::warehouse_first, Traits>;
    product p{typename product::sku_type{}};
    (void)p;
}

}  // namespace compile_fail

#endif  // ALLOCATION_TESTS_COMPILE_FAIL_HAND_WRITTEN_IDS_HPP
