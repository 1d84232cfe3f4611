// allocation tests — the PostgreSQL store makes every product with its product factory: a
// configured FEFO calendar holds in every unit of work, also after another store on the same
// database changed the product.
// SPDX-License-Identifier: MIT
#include <allocation/adapters/postgres/store.hpp>

#include <memory>  // make_unique

#include <doctest/doctest.h>

#include "adapters/fefo_reload_scenario.hpp"
#include "adapters/postgres/server.hpp"

namespace product_factory_tests {
using store_type = allocation::postgres::basic_store<allocation::testing::fefo_product>;

TEST_SUITE("postgres") {
TEST_CASE("a FEFO calendar given to bootstrap holds for products loaded from PostgreSQL") {
    allocation::testing::postgres::scratch_schema schema;
    store_type first(schema.url());
    REQUIRE(first.migrate());
    store_type second(schema.url());  // "another process" on the same database
    allocation::testing::check_fefo_calendar_survives_reload(
        first, second, [&] { return std::make_unique<store_type>(schema.url()); });
}
}
}  // namespace product_factory_tests
