// allocation tests — what the durable stores run with integer identifiers and a decimal quantity
// (domain/integer_traits.hpp): the same commands through the bus, the inbox and a reopened store.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_TESTS_ADAPTERS_INTEGER_IDS_SCENARIO_HPP
#define ALLOCATION_TESTS_ADAPTERS_INTEGER_IDS_SCENARIO_HPP

#include <chrono>  // year, year_month_day
#include <vector>  // vector

#include <doctest/doctest.h>

#include <allocation/bus/bootstrap.hpp>
#include <allocation/with_traits.hpp>

#include "domain/integer_traits.hpp"

namespace allocation::testing {

/// Integer ids and thousandths with std::chrono dates, the date type the SQLite and PostgreSQL
/// stores keep.
struct stored_integer_traits : erp::integer_traits {
    using date_type = std::chrono::year_month_day;
};
/// Every library type for stored_integer_traits.
using stored_integer_app = with_traits<stored_integer_traits>;

/// On a store of `App` (with_traits of integer ids and erp::thousandths): batches 10 (1.500) and
/// 11 (5,000,000, ETA 2030-01-01) of SKU 7; order 42 of 1.250 goes to batch 10; order id -1 is
/// refused; order 43 of 3,000,000.001 (message m-43) goes to batch 11, and the same message again
/// is answered from the inbox (`allocations()`, the number of allocation rows, stays 2); batch
/// 10 shrinks to 1.000, so 42 is reallocated to batch 11.
template <class App, class Store, class Count>
void run_integer_ids_commands(Store& store, Count&& allocations) {
    using erp::qty;
    auto bus = bootstrap(store);
    using create = typename App::commands::create_batch;
    using allocate = typename App::commands::allocate;
    REQUIRE(bus.handle(create{.ref = 10, .sku = 7, .qty = qty(1, 500)}));
    REQUIRE(bus.handle(create{.ref = 11, .sku = 7, .qty = qty(5'000'000), .eta = std::chrono::year{2030} / 1 / 1}));
    CHECK(bus.handle(allocate{.order = 42, .sku = 7, .qty = qty(1, 250)}).value() == 10);
    CHECK(bus.handle(allocate{.order = -1, .sku = 7, .qty = qty(1)}).error() == errc::invalid_identifier);
    const typename App::commands::allocate_order order{
        .order = 43, .lines = {{.sku = 7, .qty = qty(3'000'000, 1)}}, .message_id = "m-43"};
    const auto first = bus.handle(order);
    REQUIRE(first);
    CHECK(first.value().at(0).batch == 11);
    SUBCASE("the same message again is answered from the inbox") {
        const auto again = bus.handle(order);
        REQUIRE(again);
        CHECK(again.value() == first.value());
        CHECK(allocations() == 2);
    }
    REQUIRE(bus.handle(typename App::commands::change_batch_quantity{.ref = 10, .qty = qty(1)}));
}

/// On a store reopened after run_integer_ids_commands(): 42's 1.250 is in batch 11, batch 10
/// takes a new line of 1.000.
template <class App, class Store>
void check_integer_ids_reopened(Store& store) {
    using erp::qty;
    const auto state = store.read_product(7).value();
    REQUIRE(state);
    CHECK(state->available == qty(5'000'001) - qty(3'000'001, 251));
    auto bus = bootstrap(store);
    CHECK(store.read_allocations(42).value() == std::vector<typename App::line_allocation>{{7, qty(1, 250), 11}});
    CHECK(bus.handle(typename App::commands::allocate{.order = 44, .sku = 7, .qty = qty(1)}).value() == 10);
    CHECK(store.read_batch(10).value().value().allocated == qty(1));
}

}  // namespace allocation::testing

#endif  // ALLOCATION_TESTS_ADAPTERS_INTEGER_IDS_SCENARIO_HPP
