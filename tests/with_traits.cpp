// allocation — tests of allocation/with_traits.hpp: a program on its own traits that names no
// basic_X<Traits>.
// SPDX-License-Identifier: MIT
#include <allocation/with_traits.hpp>

#include <allocation/bus/bootstrap.hpp>
#include <allocation/strategies/fifo.hpp>

#include <doctest/doctest.h>

#include <functional>
#include <type_traits>

#include "domain/integer_traits.hpp"

namespace {
using app = allocation::with_traits<erp::integer_traits>;
}  // namespace

TEST_SUITE("core") {
TEST_CASE("with_traits names every type of the library for one traits type") {
    static_assert(std::is_same_v<app::product, allocation::basic_product<allocation::warehouse_first, app::traits_type>>);
    static_assert(std::is_same_v<app::commands::allocate, allocation::commands::basic_allocate<app::traits_type>>);
    static_assert(std::is_same_v<app::events::event, app::product::event_type>);
    static_assert(std::is_same_v<app::bus::product_type, app::product>);
    static_assert(std::is_same_v<app::sku, std::int64_t>);
    static_assert(std::is_same_v<allocation::with_traits<allocation::default_traits>::product, allocation::product>);
    CHECK(std::is_same_v<app::product_with<allocation::fifo>::strategy_type, allocation::fifo>);
}

TEST_CASE("a bus on user traits is written with the bundle's names alone") {
    app::memory_store store;
    app::memory_allocations_view view;
    app::bus bus = allocation::bootstrap(store, {}, std::ref(view));
    REQUIRE(bus.handle(app::commands::create_batch{.ref = 10, .sku = 7, .qty = app::quantity{2'500}}));
    CHECK(bus.handle(app::commands::allocate{.order = 1, .sku = 7, .qty = app::quantity{1'000}}).value() == 10);
    CHECK(view.get(1).value() == std::vector<app::allocation_row>{{7, 10}});
}
}
