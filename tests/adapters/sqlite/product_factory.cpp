// allocation tests — the SQLite store makes every product with its product factory: a configured
// FEFO calendar survives a reload after another store on the same file changed the product.
// SPDX-License-Identifier: MIT
#include <allocation/adapters/sqlite/store.hpp>

#include <doctest/doctest.h>

#include "adapters/fefo_reload_scenario.hpp"
#include "adapters/sqlite/files.hpp"

namespace product_factory_tests {
using store_type = allocation::sqlite::basic_store<allocation::testing::fefo_product>;

TEST_SUITE("sqlite") {
TEST_CASE("a FEFO calendar given to bootstrap survives a reload of the product from SQLite") {
    namespace files = allocation::testing::sqlite;
    const auto path = files::fresh("product_factory.db");
    auto first = files::open<store_type>(path);
    auto second = files::open<store_type>(path);  // "another process": its own cache of the file
    allocation::testing::check_fefo_calendar_survives_reload(*first, *second, [&] {
        second.reset();
        return files::open<store_type>(path);
    });
}
}
}  // namespace product_factory_tests
