// allocation — must not compile: a product whose strategy has no prefers(a, b).
// SPDX-License-Identifier: MIT
// expect-error: Strategy must model allocation_strategy
#include <allocation/domain/product.hpp>

namespace {
struct no_preference {};
}  // namespace

int main() {
    allocation::basic_product<no_preference> p{allocation::sku{"LAMP"}};
    (void)p;
}
