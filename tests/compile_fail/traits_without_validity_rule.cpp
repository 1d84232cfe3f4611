// allocation — must not compile: traits whose order id type has no validity rule.
// SPDX-License-Identifier: MIT
// expect-error: order_id_type needs a validity rule
#include <allocation/allocation.hpp>

#include <cstdint>

namespace {
struct order {
    int n = 0;
    friend auto operator==(const order&, const order&) -> bool = default;
};
}  // namespace
template <>
struct std::hash<order> {
    auto operator()(const order& o) const noexcept -> std::size_t { return std::hash<int>{}(o.n); }
};
template <>
struct fmt::formatter<order> : fmt::formatter<int> {
    auto format(order o, fmt::format_context& ctx) const { return fmt::formatter<int>::format(o.n, ctx); }
};
namespace {
struct traits {
    using order_id_type = order;
    using sku_type = std::int64_t;
    using batch_ref_type = std::int64_t;
    using quantity_type = allocation::quantity;
    using date_type = allocation::date;
};
}  // namespace

int main() {
    allocation::basic_product<allocation::warehouse_first, traits> p{allocation::basic_product<allocation::warehouse_first, traits>::sku_type{}};
    (void)p;
}
