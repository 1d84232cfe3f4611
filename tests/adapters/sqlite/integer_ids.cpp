// allocation tests — the SQLite store with integer identifiers and a decimal quantity: INTEGER
// id columns, exact thousandths, through the bus, the inbox and a reopened file.
// SPDX-License-Identifier: MIT
#include <string>      // string, stoi

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <allocation/adapters/sqlite.hpp>
#include <allocation/allocation.hpp>

#include "adapters/integer_ids_scenario.hpp"
#include "adapters/sqlite/files.hpp"
#include "domain/integer_traits.hpp"

namespace {

using namespace allocation;

using app = testing::stored_integer_app;
using store_type = sqlite::basic_store<app::product>;

// The result of a one-value query on the file, as text.
auto scalar(const std::string& path, const char* sql) -> std::string {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK);
    std::string out;
    if (sqlite3_step(st) == SQLITE_ROW) out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

}  // namespace

TEST_SUITE("sqlite") {
TEST_CASE("integer ids and a decimal quantity go through the bus on SQLite, in INTEGER columns") {
    namespace files = testing::sqlite;
    const auto path = files::fresh("integer_ids.db");
    {
        auto s = files::open<store_type>(path);
        testing::run_integer_ids_commands<app>(
            *s, [&] { return std::stoi(scalar(path, "SELECT count(*) FROM allocations")); });
    }
    CHECK(scalar(path, "SELECT typeof(sku) FROM products") == "integer");
    CHECK(scalar(path, "SELECT typeof(ref) || typeof(sku) FROM batches WHERE ref = 10") == "integerinteger");
    CHECK(scalar(path, "SELECT typeof(orderid) || typeof(batch_ref) FROM allocations WHERE orderid = 42") ==
          "integerinteger");
    // The exact count of thousandths.
    CHECK(scalar(path, "SELECT qty FROM allocations WHERE orderid = 43") == "3000000001");
    auto reopened = files::open<store_type>(path);
    testing::check_integer_ids_reopened<app>(*reopened);
}
}
