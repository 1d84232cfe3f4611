// allocation — tests of allocation/strategies/fifo.hpp: batches in receipt order.
// SPDX-License-Identifier: MIT
#include <allocation/strategies/fifo.hpp>

#include <allocation/domain/product.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <vector>

using namespace allocation;

namespace fifo_tests {
auto line(const char* order, std::int64_t qty) -> order_line { return {order_id{order}, sku{"MUG"}, quantity{qty}}; }
auto day(unsigned d) -> date { return date{std::chrono::year{2030}, std::chrono::January, std::chrono::day{d}}; }

TEST_SUITE("strategies") {
TEST_CASE("FIFO allocates the batch received first, whatever the ETAs") {
    basic_product<fifo> p{sku{"MUG"}};
    REQUIRE(p.add_batch(batch_ref{"shipment"}, quantity{10}, day(20)));
    REQUIRE(p.add_batch(batch_ref{"stock"}, quantity{10}));
    REQUIRE(p.add_batch(batch_ref{"early"}, quantity{10}, day(1)));
    CHECK(p.allocate(line("o1", 4)).value() == batch_ref{"shipment"});
    CHECK(p.allocate(line("o2", 6)).value() == batch_ref{"shipment"});
    CHECK(p.allocate(line("o3", 1)).value() == batch_ref{"stock"});
}

TEST_CASE("FIFO skips batches that cannot take the line and comes back when they can") {
    basic_product<fifo> p{sku{"MUG"}};
    REQUIRE(p.add_batch(batch_ref{"a"}, quantity{3}));
    REQUIRE(p.add_batch(batch_ref{"b"}, quantity{10}));
    CHECK(p.allocate(line("o1", 5)).value() == batch_ref{"b"});
    CHECK(p.allocate(line("o2", 3)).value() == batch_ref{"a"});
    CHECK(p.allocate(line("o3", 1)).value() == batch_ref{"b"});
    REQUIRE(p.deallocate(order_id{"o2"}));
    CHECK(p.allocate(line("o4", 1)).value() == batch_ref{"a"});
}

TEST_CASE("FIFO splits a line over batches in receipt order") {
    basic_product<fifo> p{sku{"MUG"}};
    REQUIRE(p.add_batch(batch_ref{"a"}, quantity{3}, day(9)));
    REQUIRE(p.add_batch(batch_ref{"b"}, quantity{3}));
    REQUIRE(p.add_batch(batch_ref{"c"}, quantity{3}, day(1)));
    const auto parts = p.allocate_split(line("o1", 7)).value();
    REQUIRE(parts.size() == 3);
    CHECK(parts[0].batch == batch_ref{"a"});
    CHECK(parts[1].batch == batch_ref{"b"});
    CHECK(parts[2].batch == batch_ref{"c"});
    CHECK(parts[2].qty == quantity{1});
}

TEST_CASE("FIFO shows batches in receipt order") {
    basic_product<fifo> p{sku{"MUG"}};
    REQUIRE(p.add_batch(batch_ref{"x"}, quantity{1}, day(5)));
    REQUIRE(p.add_batch(batch_ref{"y"}, quantity{1}));
    const auto order = p.preference_order();
    REQUIRE(order.size() == 2);
    CHECK(order[0]->ref() == batch_ref{"x"});
}
}
}  // namespace fifo_tests
