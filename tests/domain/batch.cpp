// allocation — tests of allocation/domain/batch.hpp.
// SPDX-License-Identifier: MIT
#include <allocation/domain/batch.hpp>

#include <doctest/doctest.h>

using namespace allocation;

TEST_SUITE("domain") {
TEST_CASE("a new batch has all its purchased quantity available") {
    const batch b{batch_ref{"b1"}, sku{"LAMP"}, quantity{20}};
    CHECK(b.available() == quantity{20});
    CHECK(b.allocated() == quantity{0});
    CHECK_FALSE(b.eta().has_value());
    CHECK(b.can_allocate(quantity{20}));
    CHECK_FALSE(b.can_allocate(quantity{21}));
}

TEST_CASE("a batch loaded with allocations counts them as allocated, oldest first") {
    const batch b{batch_ref{"b1"}, sku{"LAMP"}, quantity{20}, std::nullopt, std::nullopt,
                  {{order_id{"o1"}, quantity{2}}, {order_id{"o2"}, quantity{5}}}};
    CHECK(b.allocated() == quantity{7});
    CHECK(b.available() == quantity{13});
    REQUIRE(b.allocations().size() == 2);
    CHECK(b.allocations()[0].order == order_id{"o1"});
}

TEST_CASE("batches are the same entity when their references are equal") {
    const batch a{batch_ref{"b1"}, sku{"LAMP"}, quantity{20}};
    const batch b{batch_ref{"b1"}, sku{"LAMP"}, quantity{5}};
    const batch c{batch_ref{"b2"}, sku{"LAMP"}, quantity{20}};
    CHECK(a == b);
    CHECK_FALSE(a == c);
}
}
