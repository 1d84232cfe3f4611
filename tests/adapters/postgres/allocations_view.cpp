// allocation tests — the PostgreSQL allocations read model.
// SPDX-License-Identifier: MIT
#include <functional>  // ref
#include <vector>      // vector

#include <doctest/doctest.h>

#include <allocation/adapters/postgres/allocations_view.hpp>
#include <allocation/bus/bootstrap.hpp>

#include "adapters/postgres/server.hpp"

using namespace allocation;
using allocation::testing::postgres::fresh_store;

TEST_SUITE("postgres") {

TEST_CASE("the allocations view lists an order's lines as committed, and follows deallocation") {
    fresh_store db;
    postgres::allocations_view view(db.store);
    auto bus = bootstrap(db.store, bootstrap_options{}, std::ref(view));
    REQUIRE(bus.handle(commands::create_batch{batch_ref{"lamp-1"}, sku{"LAMP"}, quantity{10}}));
    REQUIRE(bus.handle(commands::create_batch{batch_ref{"desk-1"}, sku{"DESK"}, quantity{10}}));
    REQUIRE(bus.handle(commands::allocate{order_id{"o1"}, sku{"LAMP"}, quantity{1}}));
    REQUIRE(bus.handle(commands::allocate{order_id{"o1"}, sku{"DESK"}, quantity{1}}));
    CHECK(view.get(order_id{"o1"}).value() ==
          std::vector<allocation_row>{{sku{"LAMP"}, batch_ref{"lamp-1"}}, {sku{"DESK"}, batch_ref{"desk-1"}}});
    SUBCASE("an order without allocations has no rows") { CHECK(view.get(order_id{"o2"}).value().empty()); }
    SUBCASE("a deallocated line leaves the view") {
        REQUIRE(bus.handle(commands::deallocate{order_id{"o1"}, sku{"LAMP"}}));
        CHECK(view.get(order_id{"o1"}).value() == std::vector<allocation_row>{{sku{"DESK"}, batch_ref{"desk-1"}}});
    }
    SUBCASE("another store on the same database sees the same rows") {
        postgres::store second(db.schema.url());
        postgres::allocations_view other(second);
        CHECK(other.get(order_id{"o1"}).value().size() == 2);
    }
}

}  // TEST_SUITE
