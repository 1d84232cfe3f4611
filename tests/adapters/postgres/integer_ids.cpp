// allocation tests — the PostgreSQL store with integer identifiers and a decimal quantity: bigint
// id columns, numeric quantity columns holding the units, through the bus, the inbox and a
// second store on the database.
// SPDX-License-Identifier: MIT
#include <chrono>   // year_month_day
#include <string>   // string
#include <utility>  // pair
#include <vector>   // vector

#include <doctest/doctest.h>
#include <pqxx/pqxx>

#include <allocation/adapters/postgres.hpp>
#include <allocation/allocation.hpp>

#include "adapters/postgres/server.hpp"
#include "domain/integer_traits.hpp"

namespace {

using namespace allocation;

// Integer ids and thousandths; PostgreSQL keeps dates as std::chrono dates.
struct postgres_traits : erp::integer_traits {
    using date_type = std::chrono::year_month_day;
};
using app = with_traits<postgres_traits>;
using store_type = postgres::basic_store<app::product>;
using erp::qty;

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
TEST_CASE("integer ids and a decimal quantity go through the bus on PostgreSQL, in bigint and numeric columns") {
    testing::postgres::scratch_schema schema;
    const auto& url = schema.url();
    {
        store_type s(url);
        REQUIRE(s.migrate());
        auto bus = bootstrap(s);
        using create = app::commands::create_batch;
        REQUIRE(bus.handle(create{.ref = 10, .sku = 7, .qty = qty(1, 500)}));
        REQUIRE(bus.handle(create{
            .ref = 11, .sku = 7, .qty = qty(5'000'000), .eta = std::chrono::year{2030} / 1 / 1}));
        CHECK(bus.handle(app::commands::allocate{.order = 42, .sku = 7, .qty = qty(1, 250)}).value() == 10);
        CHECK(bus.handle(app::commands::allocate{.order = -1, .sku = 7, .qty = qty(1)}).error() ==
              errc::invalid_identifier);
        const app::commands::allocate_order order{
            .order = 43, .lines = {{.sku = 7, .qty = qty(3'000'000, 1)}}, .message_id = "m-43"};
        const auto first = bus.handle(order);
        REQUIRE(first);
        CHECK(first.value().at(0).batch == 11);
        SUBCASE("the same message again is answered from the inbox") {
            const auto again = bus.handle(order);
            REQUIRE(again);
            CHECK(again.value() == first.value());
            CHECK(scalar(url, "SELECT count(*) FROM allocations") == "2");
        }
        REQUIRE(bus.handle(app::commands::change_batch_quantity{.ref = 10, .qty = qty(1)}));
    }
    for (const auto& [table, column] : {std::pair{"products", "sku"}, std::pair{"batches", "ref"},
                                        std::pair{"batches", "sku"}, std::pair{"allocations", "orderid"},
                                        std::pair{"allocations", "batch_ref"}, std::pair{"outbox", "orderid"}}) {
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

    store_type s(url);
    const auto state = s.read_product(7).value();
    REQUIRE(state);
    CHECK(state->available == qty(5'000'001) - qty(3'000'001, 251));
    auto bus = bootstrap(s);
    // 42's 1.250 no longer fitted batch 10 (1.000) after it shrank and went to batch 11.
    CHECK(s.read_allocations(42).value() == std::vector<app::line_allocation>{{7, qty(1, 250), 11}});
    CHECK(bus.handle(app::commands::allocate{.order = 44, .sku = 7, .qty = qty(1)}).value() == 10);
    CHECK(s.read_batch(10).value().value().allocated == qty(1));
}
}
