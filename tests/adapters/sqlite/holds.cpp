// allocation tests — the SQLite store keeps holds and backorders: a second store on the file
// loads them as they were committed; a database of the previous schema is migrated.
// SPDX-License-Identifier: MIT
#include <chrono>  // minutes

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <allocation/adapters/sqlite.hpp>

#include "adapters/holds_scenario.hpp"
#include "adapters/sqlite/files.hpp"

TEST_SUITE("sqlite") {
TEST_CASE("holds and backorders committed on SQLite are what a second store on the file loads") {
    namespace files = allocation::testing::sqlite;
    const auto path = files::fresh("holds.db");
    auto first = files::open(path);
    auto second = files::open(path);
    allocation::testing::check_holds_and_backorders_survive_reload(*first, *second);
}

TEST_CASE("a database of schema version 1 is migrated to keep holds and backorders, its products unchanged") {
    using namespace allocation;
    namespace files = testing::sqlite;
    const auto path = files::fresh("holds_v1.db");
    {
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
        const auto v1 = sqlite::schema::migration_script(0);
        for (const auto* sql : {v1.c_str(), "CREATE TABLE schema_version (version INTEGER NOT NULL);"
                                            "INSERT INTO schema_version VALUES (1);"
                                            "INSERT INTO products (sku, version) VALUES ('LAMP', 2);"
                                            "INSERT INTO batches (ref, sku, purchased, position) VALUES ('b1', 'LAMP', 10, 0);"
                                            "INSERT INTO allocations (batch_ref, orderid, qty) VALUES ('b1', 'o1', 4);"}) {
            REQUIRE(sqlite::detail::exec_script(db, sql) == SQLITE_OK);
        }
        sqlite3_close(db);
    }
    auto first = files::open(path);
    CHECK(first->with_reader([](sqlite3* db) { return sqlite::schema::version(db).value(); }) ==
          sqlite::schema::current_version);
    {
        auto uow = first->begin();
        auto* p = uow.products().get(sku{"LAMP"}).value();
        REQUIRE(p != nullptr);
        CHECK(p->batches()[0].allocated() == quantity{4});
        REQUIRE(p->hold({order_id{"o2"}, sku{"LAMP"}, quantity{6}}, testing::holds_t0 + std::chrono::minutes(1),
                        testing::holds_t0));
        REQUIRE(uow.commit());
    }
    auto second = files::open(path);
    const auto batch = second->read_batch(batch_ref{"b1"}).value();
    REQUIRE(batch);
    CHECK(batch->allocated == quantity{4});
    CHECK(batch->held == quantity{6});
}
}
