// allocation tests — what the durable stores run to show that a configured strategy survives a
// reload: a FEFO calendar given to bootstrap, a product changed by another store on the database.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_TESTS_ADAPTERS_FEFO_RELOAD_SCENARIO_HPP
#define ALLOCATION_TESTS_ADAPTERS_FEFO_RELOAD_SCENARIO_HPP

#include <chrono>  // year, month, day

#include <doctest/doctest.h>

#include <allocation/bus/bootstrap.hpp>
#include <allocation/domain/product.hpp>
#include <allocation/ports/product_factory.hpp>
#include <allocation/strategies/fefo.hpp>

namespace allocation::testing {

/// The product of the scenario: FEFO on a calendar the test sets.
using fefo_product = basic_product<basic_fefo<manual_calendar>>;

/// A day of January 2030.
inline auto january(unsigned d) -> date { return date{std::chrono::year{2030}, std::chrono::month{1}, std::chrono::day{d}}; }

/// `first` and `second` are two stores of fefo_product on one database ("two processes"), each
/// bootstrapped with the calendar at January 10th: a batch expired on the 9th and a fresh one.
/// Every line goes to the fresh batch, whichever store loads or reloads the product; then a
/// store `reopen()` gives, with the strategy set on the store itself, reloads with the same
/// calendar, and sees the expired batch again when the calendar goes back to the 1st.
template <class Store, class Reopen>
void check_fefo_calendar_survives_reload(Store& first, Store& second, Reopen&& reopen) {
    manual_calendar calendar{january(10)};
    auto bus1 = bootstrap(first, {}, with_strategy(basic_fefo<manual_calendar>{calendar}));
    auto bus2 = bootstrap(second, {}, with_strategy(basic_fefo<manual_calendar>{calendar}));
    REQUIRE(bus1.handle(commands::create_batch{
        .ref = batch_ref{"expired"}, .sku = sku{"MILK"}, .qty = quantity{10}, .expires = january(9)}));
    REQUIRE(bus1.handle(commands::create_batch{
        .ref = batch_ref{"fresh"}, .sku = sku{"MILK"}, .qty = quantity{10}, .expires = january(20)}));
    // Loaded by the second store: the expired batch is refused by its calendar.
    CHECK(bus2.handle(commands::allocate{order_id{"o1"}, sku{"MILK"}, quantity{4}}).value() == batch_ref{"fresh"});
    // Changed underneath, reloaded by the first store: the same.
    CHECK(bus1.handle(commands::allocate{order_id{"o2"}, sku{"MILK"}, quantity{4}}).value() == batch_ref{"fresh"});
    CHECK(bus2.handle(commands::allocate{order_id{"o3"}, sku{"MILK"}, quantity{4}}).error() == errc::out_of_stock);
    SUBCASE("a store with the strategy set on it reloads with that calendar") {
        auto third = reopen();
        third->set_product_factory(strategy_factory<fefo_product>(basic_fefo<manual_calendar>{calendar}));
        auto bus3 = bootstrap(*third);
        CHECK(bus3.handle(commands::allocate{order_id{"o4"}, sku{"MILK"}, quantity{1}}).value() == batch_ref{"fresh"});
        calendar.set(january(1));  // the calendar is shared: the batch is no longer expired
        CHECK(bus3.handle(commands::allocate{order_id{"o5"}, sku{"MILK"}, quantity{5}}).value() == batch_ref{"expired"});
    }
}

}  // namespace allocation::testing

#endif  // ALLOCATION_TESTS_ADAPTERS_FEFO_RELOAD_SCENARIO_HPP
