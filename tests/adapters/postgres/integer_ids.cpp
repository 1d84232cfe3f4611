// allocation tests — both PostgreSQL stores with integer identifiers and a decimal quantity: bigint
// id columns, numeric quantity columns holding the units, through the bus, the inbox and a
// second store on the database.
// SPDX-License-Identifier: MIT
#include <string>   // string, stoi
#include <utility>  // pair

#include <doctest/doctest.h>
#include <pqxx/pqxx>

#include <allocation/adapters/postgres.hpp>
#include <allocation/allocation.hpp>

#include "adapters/postgres/server.hpp"
#include "adapters/integer_ids_scenario.hpp"
#include "domain/integer_traits.hpp"

namespace {

using namespace allocation;

using app = testing::stored_integer_app;
using store_type = postgres::basic_store<app::product>;
using grouped_store_type = postgres::basic_grouped_store<app::product>;

// The first column of the first row of a query on the schema, as text.
auto scalar(const std::string& url, const std::string& sql) -> std::string {
    pqxx::connection c(url);
    pqxx::nontransaction tx(c);
    const auto r = tx.exec(sql);
    return r.empty() || r[0][0].is_null() ? std::string() : std::string(r[0][0].c_str());
}

auto column_type(const std::string& url, const std::string& table, const std::string& column) -> std::string {
    return scalar(url, "SELECT data_type FROM information_schema.columns WHERE table_schema = current_schema() "
                       "AND table_name = '" + table + "' AND column_name = '" + column + "'");
}

}  // namespace

TEST_SUITE("postgres") {
TEST_CASE_TEMPLATE("integer ids and a decimal quantity go through the bus on PostgreSQL, in bigint and numeric columns",
                   Store, store_type, grouped_store_type) {
    testing::postgres::scratch_schema schema;
    const auto& url = schema.url();
    {
        Store s(url);
        REQUIRE(s.migrate());
        testing::run_integer_ids_commands<app>(s, [&] { return std::stoi(scalar(url, "SELECT count(*) FROM allocations")); });
    }
    for (const auto& id_column : {std::pair{"products", "sku"}, std::pair{"batches", "ref"},
                                  std::pair{"batches", "sku"}, std::pair{"allocations", "orderid"},
                                  std::pair{"allocations", "batch_ref"}, std::pair{"outbox", "orderid"}}) {
        const std::string table = id_column.first;
        const std::string column = id_column.second;
        CAPTURE(table);
        CAPTURE(column);
        CHECK(column_type(url, table, column) == "bigint");
    }
    CHECK(column_type(url, "batches", "purchased") == "numeric");
    CHECK(column_type(url, "allocations", "qty") == "numeric");
    // The columns hold units, so SQL reads them as the ERP does.
    CHECK(scalar(url, "SELECT qty FROM allocations WHERE orderid = 43") == "3000000.001");
    CHECK(scalar(url, "SELECT purchased FROM batches WHERE ref = 10") == "1.000");
    CHECK(scalar(url, "SELECT allocated FROM batches WHERE ref = 11") == "3000001.251");
    CHECK(scalar(url, "SELECT qty FROM outbox WHERE channel = 'line_allocated' AND orderid = 43") == "3000000.001");
    Store reopened(url);  // another store on the database
    testing::check_integer_ids_reopened<app>(reopened);
}
}
