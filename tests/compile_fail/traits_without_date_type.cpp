// allocation — must not compile: traits that do not name a date type.
// SPDX-License-Identifier: MIT
// expect-error: name the member types order_id_type, sku_type, batch_ref_type
#include <allocation/allocation.hpp>

#include <cstdint>

namespace {
struct traits {
    using order_id_type = std::int64_t;
    using sku_type = std::int64_t;
    using batch_ref_type = std::int64_t;
    using quantity_type = allocation::quantity;
};
}  // namespace

int main() {
    allocation::basic_product<allocation::warehouse_first, traits> p{allocation::basic_product<allocation::warehouse_first, traits>::sku_type{}};
    (void)p;
}
