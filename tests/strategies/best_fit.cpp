// allocation — tests of allocation/strategies/best_fit.hpp: the smallest batch that takes the
// whole line, and the fewest parts for a split line.
// SPDX-License-Identifier: MIT
#include <allocation/strategies/best_fit.hpp>

#include <allocation/domain/product.hpp>

#include <doctest/doctest.h>

#include <optional>
#include <random>
#include <string>

using namespace allocation;

namespace {
auto line(const std::string& order, std::int64_t qty) -> order_line {
    return {order_id{order}, sku{"BOLT"}, quantity{qty}};
}
}  // namespace

TEST_SUITE("strategies") {
TEST_CASE("best fit takes the batch with the least stock that still takes the whole line") {
    basic_product<best_fit> p{sku{"BOLT"}};
    REQUIRE(p.add_batch(batch_ref{"big"}, quantity{100}));
    REQUIRE(p.add_batch(batch_ref{"small"}, quantity{5}));
    REQUIRE(p.add_batch(batch_ref{"medium"}, quantity{20}));
    REQUIRE(p.add_batch(batch_ref{"medium2"}, quantity{20}));
    CHECK(p.allocate(line("o1", 5)).value() == batch_ref{"small"});
    CHECK(p.allocate(line("o2", 6)).value() == batch_ref{"medium"});  // ties: the batch added first
    CHECK(p.allocate(line("o3", 15)).value() == batch_ref{"medium2"});  // medium has 14 left
}

TEST_CASE("best fit follows the stock as lines come and go") {
    basic_product<best_fit> p{sku{"BOLT"}};
    REQUIRE(p.add_batch(batch_ref{"a"}, quantity{10}));
    REQUIRE(p.add_batch(batch_ref{"b"}, quantity{8}));
    CHECK(p.allocate(line("o1", 8)).value() == batch_ref{"b"});
    CHECK(p.allocate(line("o2", 1)).value() == batch_ref{"a"});
    REQUIRE(p.deallocate(order_id{"o1"}));
    CHECK(p.allocate(line("o3", 8)).value() == batch_ref{"b"});
    REQUIRE(p.change_batch_quantity(batch_ref{"a"}, quantity{30}));
    CHECK(p.allocate(line("o4", 25)).value() == batch_ref{"a"});
}

TEST_CASE("best fit splits a line over the fewest batches") {
    basic_product<best_fit> p{sku{"BOLT"}};
    for (int i = 0; i < 6; ++i) REQUIRE(p.add_batch(batch_ref{fmt::format("s{}", i)}, quantity{2}));
    REQUIRE(p.add_batch(batch_ref{"l1"}, quantity{9}));
    REQUIRE(p.add_batch(batch_ref{"l2"}, quantity{7}));
    const auto parts = p.allocate_split(line("o1", 12)).value();
    REQUIRE(parts.size() == 2);
    CHECK(parts[0].batch == batch_ref{"l1"});
    CHECK(parts[0].qty == quantity{9});
    CHECK(parts[1].batch == batch_ref{"l2"});  // the rest, 3: no batch of 2 takes it
    CHECK(parts[1].qty == quantity{3});
}

TEST_CASE("best fit agrees with a scan of every batch on a random sequence") {
    std::mt19937 rng(7);
    basic_product<best_fit> p{sku{"BOLT"}};
    for (int i = 0; i < 40; ++i) {
        REQUIRE(p.add_batch(batch_ref{fmt::format("b{}", i)},
                            quantity{std::uniform_int_distribution<std::int64_t>(0, 30)(rng)}));
    }
    for (int step = 0; step < 400; ++step) {
        const auto q = std::uniform_int_distribution<std::int64_t>(1, 12)(rng);
        std::optional<std::size_t> expected;
        for (std::size_t i = 0; i < p.batches().size(); ++i) {
            const auto& b = p.batches()[i];
            if (b.available() >= quantity{q} && (!expected || b.available() < p.batches()[*expected].available())) {
                expected = i;
            }
        }
        const auto got = p.allocate(line(fmt::format("o{}", step), q));
        if (expected) {
            REQUIRE(got);
            CHECK(got.value() == p.batches()[*expected].ref());
        } else {
            CHECK(got.error() == errc::out_of_stock);
        }
        if (step % 3 == 0 && step > 0) (void)p.deallocate(order_id{fmt::format("o{}", step - 1)});
    }
}
}
