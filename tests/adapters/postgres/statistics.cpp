// allocation tests — the PostgreSQL store's statistics: transactions committed and units of work
// refused as conflicts (what the service logs at exit and exports as metrics).
// SPDX-License-Identifier: MIT
#include <chrono>  // milliseconds
#include <string>  // to_string

#include <doctest/doctest.h>

#include <allocation/adapters/postgres/store.hpp>
#include <allocation/bus/bootstrap.hpp>

#include "adapters/postgres/server.hpp"

using namespace allocation;
using allocation::testing::postgres::fresh_store;
using namespace std::chrono_literals;

TEST_SUITE("postgres") {

TEST_CASE("a PostgreSQL store counts one transaction per command that committed") {
    fresh_store db;
    auto bus = bootstrap(db.store);
    REQUIRE(bus.handle(commands::create_batch{batch_ref{"b1"}, sku{"LAMP"}, quantity{10}}));
    const auto before = db.store.transactions();
    CHECK(before >= 1);
    for (int i = 0; i < 5; ++i) {
        REQUIRE(bus.handle(commands::allocate{order_id{"o" + std::to_string(i)}, sku{"LAMP"}, quantity{1}}));
    }
    CHECK(db.store.transactions() == before + 5);
    CHECK(db.store.conflicts() == 0);
    SUBCASE("a unit of work that commits nothing writes no transaction") {
        auto uow = db.store.begin();
        REQUIRE(uow.commit());
        CHECK(db.store.transactions() == before + 5);
    }
}

TEST_CASE("a PostgreSQL store counts a unit of work refused as a conflict by the store it ran in") {
    fresh_store db;
    {
        auto uow = db.store.begin();
        REQUIRE(uow.products().add(product{sku{"LAMP"}}));
        REQUIRE(uow.commit());
    }
    postgres::store impatient(db.schema.url(), {.lock_timeout = 100ms});
    auto holder = db.store.begin();
    REQUIRE(holder.products().get(sku{"LAMP"}).value() != nullptr);
    auto uow = impatient.begin();
    CHECK(uow.products().get(sku{"LAMP"}).error() == errc::conflict);
    CHECK(impatient.conflicts() == 1);
    CHECK(impatient.transactions() == 0);
    CHECK(db.store.conflicts() == 0);
}

}  // TEST_SUITE
