// allocation tests — the SQLite store with integer identifiers and a decimal quantity: INTEGER
// id columns, exact thousandths, through the bus, the inbox and a reopened file.
// SPDX-License-Identifier: MIT
#include <chrono>      // year_month_day
#include <filesystem>  // absolute, remove
#include <memory>      // unique_ptr
#include <string>      // string

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <allocation/adapters/sqlite.hpp>
#include <allocation/allocation.hpp>

#include "domain/integer_traits.hpp"

namespace {

using namespace allocation;

// Integer ids and thousandths; SQLite keeps dates as ISO text of std::chrono dates.
struct sqlite_traits : erp::integer_traits {
    using date_type = std::chrono::year_month_day;
};
using app = with_traits<sqlite_traits>;
using store_type = sqlite::basic_store<app::product>;
using erp::qty;

auto fresh(const std::string& name) -> std::string {
    const auto path = std::filesystem::absolute(name).string();
    for (const auto* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    return path;
}

auto open(const std::string& path) -> std::unique_ptr<store_type> {
    sqlite::options o;
    o.durability = sqlite::durability::normal;
    auto s = store_type::open(path, o);
    REQUIRE(s);
    return std::move(s).value();
}

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
    const auto path = fresh("integer_ids.db");
    {
        auto s = open(path);
        auto bus = bootstrap(*s);
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
            CHECK(scalar(path, "SELECT count(*) FROM allocations") == "2");
        }
        REQUIRE(bus.handle(app::commands::change_batch_quantity{.ref = 10, .qty = qty(1)}));
    }
    CHECK(scalar(path, "SELECT typeof(sku) FROM products") == "integer");
    CHECK(scalar(path, "SELECT typeof(ref) || typeof(sku) FROM batches WHERE ref = 10") == "integerinteger");
    CHECK(scalar(path, "SELECT typeof(orderid) || typeof(batch_ref) FROM allocations WHERE orderid = 42") ==
          "integerinteger");
    CHECK(scalar(path, "SELECT qty FROM allocations WHERE orderid = 43") == "3000000001");

    auto s = open(path);
    const auto state = s->read_product(7).value();
    REQUIRE(state);
    auto bus = bootstrap(*s);
    // Reloaded from the file: 42's 1.250 no longer fits batch 10 (1.000) and went to batch 11.
    CHECK(s->read_allocations(42).value() == std::vector<app::line_allocation>{{7, qty(1, 250), 11}});
    CHECK(bus.handle(app::commands::allocate{.order = 44, .sku = 7, .qty = qty(1)}).value() == 10);
}
}
