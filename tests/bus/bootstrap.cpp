// allocation — tests of allocation/bus/bootstrap.hpp: adapters wired to the events they serve.
// SPDX-License-Identifier: MIT
#include <allocation/bus/bootstrap.hpp>

#include <allocation/adapters/memory/allocations_view.hpp>
#include <allocation/adapters/memory/notifications.hpp>
#include <allocation/adapters/memory/unit_of_work.hpp>

#include <doctest/doctest.h>

#include <variant>

using namespace allocation;

TEST_SUITE("bus") {
TEST_CASE("bootstrap connects notifications, the read model and the publisher") {
    memory::store<> store;
    memory::notifications mail;
    memory::allocations_view view;
    memory::publisher published;
    bootstrap_options options;
    options.purchasing = "buyers@example.com";
    auto bus = bootstrap(store, options, std::ref(mail), std::ref(view), std::ref(published));
    REQUIRE(bus.handle(commands::set_replenishment{}).error() == errc::invalid_identifier);
    REQUIRE(bus.handle(commands::create_batch{.ref = batch_ref{"b1"}, .sku = sku{"LAMP"}, .qty = quantity{5}}));
    REQUIRE(bus.handle(commands::set_replenishment{sku{"LAMP"}, replenishment{.reorder_point = quantity{2}, .max_level = quantity{10}, .multiple = std::nullopt}}));

    REQUIRE(bus.handle(commands::allocate{order_id{"o1"}, sku{"LAMP"}, quantity{3}}));
    SUBCASE("the read model lists the order's allocations") {
        CHECK(view.get(order_id{"o1"}).value() == std::vector<allocation_row>{{sku{"LAMP"}, batch_ref{"b1"}}});
        REQUIRE(bus.handle(commands::deallocate{order_id{"o1"}, sku{"LAMP"}, std::nullopt}));
        CHECK(view.get(order_id{"o1"}).value().empty());
    }
    SUBCASE("purchasing hears of low stock once, with the quantity to order") {
        REQUIRE(mail.sent().size() == 1);
        CHECK(mail.sent()[0].destination == "buyers@example.com");
        CHECK(mail.sent()[0].text == "Low stock for LAMP: 2 available, please order 8");
        REQUIRE(bus.handle(commands::allocate{order_id{"o2"}, sku{"LAMP"}, quantity{1}}));
        CHECK(mail.sent().size() == 1);
    }
    SUBCASE("purchasing hears of a line out of stock") {
        CHECK(bus.handle(commands::allocate{order_id{"o2"}, sku{"LAMP"}, quantity{9}}).error() == errc::out_of_stock);
        REQUIRE(mail.sent().size() == 2);
        CHECK(mail.sent()[1].text == "Out of stock for LAMP: order o2 wanted 9");
    }
    SUBCASE("the publisher is given allocations on the line_allocated channel") {
        const auto messages = published.published();
        REQUIRE(messages.size() >= 1);
        CHECK(messages[0].channel == "line_allocated");
        CHECK(std::get<events::allocated>(messages[0].event).order == order_id{"o1"});
    }
}
}
