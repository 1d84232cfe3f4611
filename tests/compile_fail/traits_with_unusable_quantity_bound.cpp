// allocation — must not compile: traits whose quantity bound would overflow sums of quantities.
// SPDX-License-Identifier: MIT
// expect-error: max_quantity must be above zero and at most 2^48
#include <allocation/allocation.hpp>

#include <cstdint>

namespace {
struct traits {
    using order_id_type = std::int64_t;
    using sku_type = std::int64_t;
    using batch_ref_type = std::int64_t;
    using quantity_type = std::int64_t;
    using date_type = allocation::date;
    static constexpr std::int64_t max_quantity = std::int64_t{1} << 62;
};
}  // namespace

int main() {
    allocation::basic_product<allocation::warehouse_first, traits> p{allocation::basic_product<allocation::warehouse_first, traits>::sku_type{}};
    (void)p;
}
