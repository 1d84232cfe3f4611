// allocation — must not compile: traits whose batch reference type has no std::hash.
// SPDX-License-Identifier: MIT
// expect-error: std::hash<batch_ref_type> is not enabled
#include <allocation/allocation.hpp>

#include <cstdint>

namespace {
struct ref {
    int n = 0;
    friend auto operator==(const ref&, const ref&) -> bool = default;
};
}  // namespace
template <>
struct fmt::formatter<ref> : fmt::formatter<int> {
    auto format(ref r, fmt::format_context& ctx) const { return fmt::formatter<int>::format(r.n, ctx); }
};
namespace {
struct traits {
    using order_id_type = std::int64_t;
    using sku_type = std::int64_t;
    using batch_ref_type = ref;
    using quantity_type = allocation::quantity;
    using date_type = allocation::date;
    static auto is_valid(const ref& r) -> bool { return r.n > 0; }
};
}  // namespace

int main() {
    allocation::basic_product<allocation::warehouse_first, traits> p{allocation::basic_product<allocation::warehouse_first, traits>::sku_type{}};
    (void)p;
}
