// allocation — tests of allocation/strategies/fefo.hpp: first expiry first out, and expired
// stock never allocated.
// SPDX-License-Identifier: MIT
#include <allocation/strategies/fefo.hpp>

#include <allocation/domain/product.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <optional>

using namespace allocation;

namespace fefo_tests {
using test_fefo = basic_fefo<manual_calendar>;
auto line(const char* order, std::int64_t qty) -> order_line { return {order_id{order}, sku{"MILK"}, quantity{qty}}; }
auto day(unsigned d) -> date { return date{std::chrono::year{2030}, std::chrono::March, std::chrono::day{d}}; }

TEST_SUITE("strategies") {
TEST_CASE("FEFO allocates the batch that expires first, batches without expiry last") {
    manual_calendar calendar{day(1)};
    basic_product<test_fefo> p{sku{"MILK"}, {}, test_fefo{calendar}};
    REQUIRE(p.add_batch(batch_ref{"never"}, quantity{10}));
    REQUIRE(p.add_batch(batch_ref{"late"}, quantity{10}, std::nullopt, day(20)));
    REQUIRE(p.add_batch(batch_ref{"soon"}, quantity{10}, std::nullopt, day(5)));
    CHECK(p.allocate(line("o1", 10)).value() == batch_ref{"soon"});
    CHECK(p.allocate(line("o2", 10)).value() == batch_ref{"late"});
    CHECK(p.allocate(line("o3", 10)).value() == batch_ref{"never"});
}

TEST_CASE("FEFO never allocates an expired batch") {
    manual_calendar calendar{day(10)};
    basic_product<test_fefo> p{sku{"MILK"}, {}, test_fefo{calendar}};
    REQUIRE(p.add_batch(batch_ref{"expired"}, quantity{100}, std::nullopt, day(9)));
    REQUIRE(p.add_batch(batch_ref{"today"}, quantity{5}, std::nullopt, day(10)));

    SUBCASE("a batch expiring today is still allocated") {
        CHECK(p.allocate(line("o1", 5)).value() == batch_ref{"today"});
    }
    SUBCASE("a line only the expired batch could take is out of stock") {
        CHECK(p.allocate(line("o1", 6)).error() == errc::out_of_stock);
        CHECK(p.find_batch(batch_ref{"expired"})->allocated() == quantity{0});
    }
    SUBCASE("a split line never takes expired stock") {
        CHECK(p.allocate_split(line("o1", 6)).error() == errc::out_of_stock);
        CHECK(p.allocate_split(line("o2", 5)).value().size() == 1);
    }
    SUBCASE("the expired batch is not eligible") {
        CHECK_FALSE(p.strategy().eligible(*p.find_batch(batch_ref{"expired"})));
        CHECK(p.strategy().eligible(*p.find_batch(batch_ref{"today"})));
    }
}

TEST_CASE("FEFO stops allocating a batch the day after it expires, with no batch changing") {
    manual_calendar calendar{day(1)};
    basic_product<test_fefo> p{sku{"MILK"}, {}, test_fefo{calendar}};
    REQUIRE(p.add_batch(batch_ref{"a"}, quantity{10}, std::nullopt, day(3)));
    REQUIRE(p.add_batch(batch_ref{"b"}, quantity{10}, std::nullopt, day(4)));
    CHECK(p.allocate(line("o1", 1)).value() == batch_ref{"a"});
    calendar.set(day(4));
    CHECK(p.allocate(line("o2", 1)).value() == batch_ref{"b"});
    calendar.set(day(5));
    CHECK(p.allocate(line("o3", 1)).error() == errc::out_of_stock);
    CHECK(p.allocate(line("o1", 1)).value() == batch_ref{"a"});  // answered, not reallocated
}

TEST_CASE("FEFO ties on expiry prefer stock on hand, then the earliest ETA") {
    manual_calendar calendar{day(1)};
    basic_product<test_fefo> p{sku{"MILK"}, {}, test_fefo{calendar}};
    REQUIRE(p.add_batch(batch_ref{"ship"}, quantity{10}, day(2), day(9)));
    REQUIRE(p.add_batch(batch_ref{"stock"}, quantity{10}, std::nullopt, day(9)));
    CHECK(p.allocate(line("o1", 1)).value() == batch_ref{"stock"});
}

TEST_CASE("FEFO splits a line over unexpired batches by expiry") {
    manual_calendar calendar{day(10)};
    basic_product<test_fefo> p{sku{"MILK"}, {}, test_fefo{calendar}};
    REQUIRE(p.add_batch(batch_ref{"never"}, quantity{10}));
    REQUIRE(p.add_batch(batch_ref{"old"}, quantity{10}, std::nullopt, day(2)));
    REQUIRE(p.add_batch(batch_ref{"d12"}, quantity{4}, std::nullopt, day(12)));
    REQUIRE(p.add_batch(batch_ref{"d11"}, quantity{4}, std::nullopt, day(11)));
    const auto parts = p.allocate_split(line("o1", 12)).value();
    REQUIRE(parts.size() == 3);
    CHECK(parts[0].batch == batch_ref{"d11"});
    CHECK(parts[1].batch == batch_ref{"d12"});
    CHECK(parts[2].batch == batch_ref{"never"});
    CHECK(parts[2].qty == quantity{4});
}

TEST_CASE("the system calendar's today is the current UTC day") {
    const auto today = system_calendar{}.today();
    const auto now = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
    CHECK((std::chrono::sys_days{today} == now || std::chrono::sys_days{today} + std::chrono::days{1} == now));
}
}
}  // namespace fefo_tests
