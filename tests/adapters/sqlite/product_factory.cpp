// allocation tests — the SQLite store makes every product with its product factory: a configured
// FEFO calendar survives a reload after another store on the same file changed the product.
// SPDX-License-Identifier: MIT
#include <chrono>      // year, month, day
#include <filesystem>  // absolute, remove
#include <memory>      // unique_ptr
#include <string>      // string

#include <doctest/doctest.h>

#include <allocation/adapters/sqlite.hpp>
#include <allocation/allocation.hpp>
#include <allocation/strategies/fefo.hpp>

namespace {

using namespace allocation;
using fefo_product = basic_product<basic_fefo<manual_calendar>>;
using store_type = sqlite::basic_store<fefo_product>;

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

auto day(unsigned d) -> date { return date{std::chrono::year{2030}, std::chrono::month{1}, std::chrono::day{d}}; }

}  // namespace

TEST_SUITE("sqlite") {
TEST_CASE("a FEFO calendar given to bootstrap survives a reload of the product from SQLite") {
    const auto path = fresh("product_factory.db");
    manual_calendar calendar{day(10)};
    auto first = open(path);
    auto second = open(path);  // "another process": its own cache of the file
    auto bus1 = bootstrap(*first, {}, with_strategy(basic_fefo<manual_calendar>{calendar}));
    auto bus2 = bootstrap(*second, {}, with_strategy(basic_fefo<manual_calendar>{calendar}));
    REQUIRE(bus1.handle(commands::create_batch{
        .ref = batch_ref{"expired"}, .sku = sku{"MILK"}, .qty = quantity{10}, .expires = day(9)}));
    REQUIRE(bus1.handle(commands::create_batch{
        .ref = batch_ref{"fresh"}, .sku = sku{"MILK"}, .qty = quantity{10}, .expires = day(20)}));
    // Loaded by the second store: the expired batch is refused by its calendar.
    CHECK(bus2.handle(commands::allocate{order_id{"o1"}, sku{"MILK"}, quantity{4}}).value() == batch_ref{"fresh"});
    // Changed underneath, reloaded by the first store: the same.
    CHECK(bus1.handle(commands::allocate{order_id{"o2"}, sku{"MILK"}, quantity{4}}).value() == batch_ref{"fresh"});
    CHECK(bus2.handle(commands::allocate{order_id{"o3"}, sku{"MILK"}, quantity{4}}).error() == errc::out_of_stock);
    SUBCASE("a reopened store with the strategy set on it reloads with that calendar") {
        second.reset();
        auto third = open(path);
        third->set_product_factory(strategy_factory<fefo_product>(basic_fefo<manual_calendar>{calendar}));
        auto bus3 = bootstrap(*third);
        CHECK(bus3.handle(commands::allocate{order_id{"o4"}, sku{"MILK"}, quantity{1}}).value() == batch_ref{"fresh"});
        calendar.set(day(1));  // the calendar is shared: the batch is no longer expired
        CHECK(bus3.handle(commands::allocate{order_id{"o5"}, sku{"MILK"}, quantity{5}}).value() == batch_ref{"expired"});
    }
}
}
