// allocation — must not compile: traits whose quantity type fmt cannot format.
// SPDX-License-Identifier: MIT
// expect-error: quantity_type needs a fmt::formatter
#include <allocation/allocation.hpp>

#include <cstdint>

namespace {
struct grams {
    std::int64_t value{};
    friend auto operator==(grams, grams) -> bool = default;
    friend auto operator<=>(grams, grams) = default;
    friend auto operator+(grams a, grams b) -> grams { return {a.value + b.value}; }
    friend auto operator-(grams a, grams b) -> grams { return {a.value - b.value}; }
    auto operator+=(grams o) -> grams& { value += o.value; return *this; }
    auto operator-=(grams o) -> grams& { value -= o.value; return *this; }
};
struct traits {
    using order_id_type = std::int64_t;
    using sku_type = std::int64_t;
    using batch_ref_type = std::int64_t;
    using quantity_type = grams;
    using date_type = allocation::date;
};
}  // namespace

int main() {
    allocation::basic_product<allocation::warehouse_first, traits> p{allocation::basic_product<allocation::warehouse_first, traits>::sku_type{}};
    (void)p;
}
