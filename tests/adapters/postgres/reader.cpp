// allocation tests — the PostgreSQL store's reads of committed state beyond the conformance kit:
// an order's allocations, also from another store on the database.
// SPDX-License-Identifier: MIT
#include <vector>      // vector

#include <doctest/doctest.h>

#include <allocation/adapters/postgres/reader.hpp>

#include <allocation/adapters/postgres/store.hpp>
#include <allocation/bus/bootstrap.hpp>

#include "adapters/postgres/server.hpp"

using namespace allocation;
using allocation::testing::postgres::fresh_store;

TEST_SUITE("postgres") {

TEST_CASE("a PostgreSQL read lists an order's lines as committed, and follows deallocation") {
    fresh_store db;
    auto bus = bootstrap(db.store);
    REQUIRE(bus.handle(commands::create_batch{batch_ref{"lamp-1"}, sku{"LAMP"}, quantity{10}}));
    REQUIRE(bus.handle(commands::create_batch{batch_ref{"desk-1"}, sku{"DESK"}, quantity{10}}));
    REQUIRE(bus.handle(commands::allocate{order_id{"o1"}, sku{"LAMP"}, quantity{1}}));
    REQUIRE(bus.handle(commands::allocate{order_id{"o1"}, sku{"DESK"}, quantity{1}}));
    CHECK(db.store.read_allocations(order_id{"o1"}).value() ==
          std::vector<line_allocation>{{sku{"LAMP"}, quantity{1}, batch_ref{"lamp-1"}},
                                       {sku{"DESK"}, quantity{1}, batch_ref{"desk-1"}}});
    SUBCASE("an order without allocations has no rows") { CHECK(db.store.read_allocations(order_id{"o2"}).value().empty()); }
    SUBCASE("a deallocated line is no longer read") {
        REQUIRE(bus.handle(commands::deallocate{order_id{"o1"}, sku{"LAMP"}}));
        CHECK(db.store.read_allocations(order_id{"o1"}).value() ==
              std::vector<line_allocation>{{sku{"DESK"}, quantity{1}, batch_ref{"desk-1"}}});
    }
    SUBCASE("another store on the same database sees the same rows") {
        postgres::store second(db.schema.url());
        CHECK(second.read_allocations(order_id{"o1"}).value().size() == 2);
    }
}

}  // TEST_SUITE
