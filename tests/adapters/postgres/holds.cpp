// allocation tests — the PostgreSQL store keeps holds and backorders: a second store on the
// database loads them as they were committed.
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <allocation/adapters/postgres.hpp>

#include "adapters/holds_scenario.hpp"
#include "adapters/postgres/server.hpp"

TEST_SUITE("postgres") {
TEST_CASE("holds and backorders committed on PostgreSQL are what a second store on the database loads") {
    allocation::testing::postgres::scratch_schema schema;
    allocation::postgres::store first(schema.url());
    REQUIRE(first.migrate());
    allocation::postgres::store second(schema.url());
    allocation::testing::check_holds_and_backorders_survive_reload(first, second);
}
}
