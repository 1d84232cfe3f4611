// allocation — must not compile: traits whose SKU type cannot be default-constructed.
// SPDX-License-Identifier: MIT
// expect-error: sku_type must be default-constructible
#include <allocation/allocation.hpp>

#include <cstdint>

namespace {
struct code {
    explicit code(int v) : n(v) {}
    int n;
    friend auto operator==(const code&, const code&) -> bool = default;
    friend auto operator<=>(const code&, const code&) = default;
    friend auto is_valid(const code& c) -> bool { return c.n > 0; }
};
}  // namespace
template <>
struct std::hash<code> {
    auto operator()(const code& c) const noexcept -> std::size_t { return std::hash<int>{}(c.n); }
};
template <>
struct fmt::formatter<code> : fmt::formatter<int> {
    auto format(code c, fmt::format_context& ctx) const { return fmt::formatter<int>::format(c.n, ctx); }
};
namespace {
struct traits {
    using order_id_type = std::int64_t;
    using sku_type = code;
    using batch_ref_type = std::int64_t;
    using quantity_type = allocation::quantity;
    using date_type = allocation::date;
};
}  // namespace

int main() {
    allocation::basic_product<allocation::warehouse_first, traits> p{allocation::basic_product<allocation::warehouse_first, traits>::sku_type{}};
    (void)p;
}
