// allocation tests — the PostgreSQL store makes every product with its product factory: a
// configured FEFO calendar holds in every unit of work, also after another store on the same
// database changed the product.
// SPDX-License-Identifier: MIT
#include <chrono>  // year, month, day

#include <doctest/doctest.h>

#include <allocation/adapters/postgres.hpp>
#include <allocation/allocation.hpp>
#include <allocation/strategies/fefo.hpp>

#include "adapters/postgres/server.hpp"

namespace {

using namespace allocation;
using fefo_product = basic_product<basic_fefo<manual_calendar>>;
using store_type = postgres::basic_store<fefo_product>;

auto day(unsigned d) -> date { return date{std::chrono::year{2030}, std::chrono::month{1}, std::chrono::day{d}}; }

}  // namespace

TEST_SUITE("postgres") {
TEST_CASE("a FEFO calendar given to bootstrap holds for products loaded from PostgreSQL") {
    testing::postgres::scratch_schema schema;
    manual_calendar calendar{day(10)};
    store_type first(schema.url());
    REQUIRE(first.migrate());
    store_type second(schema.url());  // "another process" on the same database
    auto bus1 = bootstrap(first, {}, with_strategy(basic_fefo<manual_calendar>{calendar}));
    auto bus2 = bootstrap(second, {}, with_strategy(basic_fefo<manual_calendar>{calendar}));
    REQUIRE(bus1.handle(commands::create_batch{
        .ref = batch_ref{"expired"}, .sku = sku{"MILK"}, .qty = quantity{10}, .expires = day(9)}));
    REQUIRE(bus1.handle(commands::create_batch{
        .ref = batch_ref{"fresh"}, .sku = sku{"MILK"}, .qty = quantity{10}, .expires = day(20)}));
    CHECK(bus2.handle(commands::allocate{order_id{"o1"}, sku{"MILK"}, quantity{4}}).value() == batch_ref{"fresh"});
    CHECK(bus1.handle(commands::allocate{order_id{"o2"}, sku{"MILK"}, quantity{4}}).value() == batch_ref{"fresh"});
    CHECK(bus2.handle(commands::allocate{order_id{"o3"}, sku{"MILK"}, quantity{4}}).error() == errc::out_of_stock);
    SUBCASE("a store with the strategy set on it loads with that calendar") {
        store_type third(schema.url());
        third.set_product_factory(strategy_factory<fefo_product>(basic_fefo<manual_calendar>{calendar}));
        auto bus3 = bootstrap(third);
        CHECK(bus3.handle(commands::allocate{order_id{"o4"}, sku{"MILK"}, quantity{1}}).value() == batch_ref{"fresh"});
        calendar.set(day(1));  // the calendar is shared: the batch is no longer expired
        CHECK(bus3.handle(commands::allocate{order_id{"o5"}, sku{"MILK"}, quantity{5}}).value() == batch_ref{"expired"});
    }
}
}
