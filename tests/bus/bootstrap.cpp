// allocation — tests of allocation/bus/bootstrap.hpp: adapters wired to the events they serve.
// SPDX-License-Identifier: MIT
#include <allocation/bus/bootstrap.hpp>

#include <allocation/adapters/memory/allocations_view.hpp>
#include <allocation/adapters/memory/notifications.hpp>
#include <allocation/adapters/memory/unit_of_work.hpp>
#include <allocation/strategies/fefo.hpp>

#include <doctest/doctest.h>

#include <map>
#include <vector>
#include <variant>

using namespace allocation;

TEST_SUITE("bus") {
TEST_CASE("bootstrap connects notifications, the read model and the publisher") {
    memory::store store;
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

TEST_CASE("products the bus creates get the strategy given to bootstrap: a FEFO calendar set by the caller") {
    using fefo_product = basic_product<basic_fefo<manual_calendar>>;
    memory::basic_store<fefo_product> store;
    const auto day = [](unsigned d) { return date{std::chrono::year{2030}, std::chrono::month{1}, std::chrono::day{d}}; };
    manual_calendar calendar{day(10)};
    auto bus = bootstrap(store, {}, with_strategy(basic_fefo<manual_calendar>{calendar}));
    REQUIRE(bus.handle(commands::create_batch{
        .ref = batch_ref{"expired"}, .sku = sku{"MILK"}, .qty = quantity{10}, .expires = day(9)}));
    REQUIRE(bus.handle(commands::create_batch{
        .ref = batch_ref{"fresh"}, .sku = sku{"MILK"}, .qty = quantity{10}, .expires = day(20)}));
    CHECK(bus.handle(commands::allocate{order_id{"o1"}, sku{"MILK"}, quantity{4}}).value() == batch_ref{"fresh"});
    CHECK(bus.handle(commands::allocate{order_id{"o2"}, sku{"MILK"}, quantity{7}}).error() == errc::out_of_stock);
    SUBCASE("moving the calendar back makes the batch eligible again") {
        calendar.set(day(1));
        CHECK(bus.handle(commands::allocate{order_id{"o3"}, sku{"MILK"}, quantity{4}}).value() == batch_ref{"expired"});
    }
}

namespace {
// Traits whose order lines carry the customer's warehouse.
struct warehouse_traits : default_traits {
    struct line_context_type {
        int warehouse = 0;
    };
};
// Prefers batches stored in the line's warehouse (a map configured at run time), then
// warehouse_first.
struct nearest_warehouse {
    std::map<batch_ref, int> warehouse_of;

    template <class Batch>
    auto prefers(const Batch& a, const Batch& b) const -> bool {
        return warehouse_first{}.prefers(a, b);
    }
    template <class Batch, class Line>
    auto prefers(const Batch& a, const Batch& b, const Line& line) const -> bool {
        const bool a_near = at(a.ref()) == line.context.warehouse;
        const bool b_near = at(b.ref()) == line.context.warehouse;
        if (a_near != b_near) return a_near;
        return prefers(a, b);
    }
    auto at(const batch_ref& ref) const -> int {
        const auto it = warehouse_of.find(ref);
        return it == warehouse_of.end() ? 0 : it->second;
    }
};
}  // namespace

TEST_CASE("a strategy sees the line it places with the caller's context: the ship-to warehouse") {
    using product_type = basic_product<nearest_warehouse, warehouse_traits>;
    memory::basic_store<product_type> store;
    nearest_warehouse strategy;
    strategy.warehouse_of = {{batch_ref{"paris"}, 1}, {batch_ref{"lyon"}, 2}};
    auto bus = bootstrap(store, {}, with_strategy(strategy));
    using create = commands::basic_create_batch<warehouse_traits>;
    using alloc = commands::basic_allocate<warehouse_traits>;
    REQUIRE(bus.handle(create{.ref = batch_ref{"paris"}, .sku = sku{"LAMP"}, .qty = quantity{5}}));
    REQUIRE(bus.handle(create{.ref = batch_ref{"lyon"}, .sku = sku{"LAMP"}, .qty = quantity{5}}));
    CHECK(bus.handle(alloc{.order = order_id{"o1"}, .sku = sku{"LAMP"}, .qty = quantity{1}, .context = {.warehouse = 2}})
              .value() == batch_ref{"lyon"});
    CHECK(bus.handle(alloc{.order = order_id{"o2"}, .sku = sku{"LAMP"}, .qty = quantity{1}, .context = {.warehouse = 1}})
              .value() == batch_ref{"paris"});
    CHECK(bus.handle(alloc{.order = order_id{"o3"}, .sku = sku{"LAMP"}, .qty = quantity{1}}).value() == batch_ref{"paris"});
    CHECK(bus.handle(alloc{.order = order_id{"o4"}, .sku = sku{"LAMP"}, .qty = quantity{4}, .context = {.warehouse = 2}})
              .value() == batch_ref{"lyon"});
    CHECK(bus.handle(alloc{.order = order_id{"o5"}, .sku = sku{"LAMP"}, .qty = quantity{2}, .context = {.warehouse = 2}})
              .value() == batch_ref{"paris"});  // Lyon is empty: the line goes where stock is
    const auto order = bus.handle(commands::basic_allocate_order<warehouse_traits>{
        .order = order_id{"o6"}, .lines = {{.sku = sku{"LAMP"}, .qty = quantity{1}}}, .context = {.warehouse = 1}});
    CHECK(order.value().at(0).batch == batch_ref{"paris"});
}

TEST_CASE("a line reallocated after its batch shrank is placed by the caller's context it was allocated with") {
    using product_type = basic_product<nearest_warehouse, warehouse_traits>;
    memory::basic_store<product_type> store;
    nearest_warehouse strategy;
    strategy.warehouse_of = {{batch_ref{"paris"}, 1}, {batch_ref{"lyon"}, 2}, {batch_ref{"lyon-2"}, 2}};
    auto bus = bootstrap(store, {}, with_strategy(strategy));
    using create = commands::basic_create_batch<warehouse_traits>;
    using alloc = commands::basic_allocate<warehouse_traits>;
    for (const auto* ref : {"paris", "lyon", "lyon-2"}) {
        REQUIRE(bus.handle(create{.ref = batch_ref{ref}, .sku = sku{"LAMP"}, .qty = quantity{5}}));
    }
    REQUIRE(bus.handle(alloc{.order = order_id{"o1"}, .sku = sku{"LAMP"}, .qty = quantity{3}, .context = {.warehouse = 2}})
                .value() == batch_ref{"lyon"});
    std::vector<int> seen;  // the context the observers see in the Deallocated event
    bus.on<events::basic_deallocated<warehouse_traits>>([&](const events::basic_deallocated<warehouse_traits>& e) {
        seen.push_back(e.context.warehouse);
        return success();
    });
    REQUIRE(bus.handle(commands::basic_change_batch_quantity<warehouse_traits>{.ref = batch_ref{"lyon"}, .qty = quantity{1}}));
    CHECK(seen == std::vector<int>{2});
    // Reallocated in the caller's warehouse, not where the default preference puts it (Paris).
    CHECK(store.read_allocations(order_id{"o1"}).value() ==
          std::vector<basic_line_allocation<warehouse_traits>>{{sku{"LAMP"}, quantity{3}, batch_ref{"lyon-2"}}});
}

TEST_CASE("a product factory given to bootstrap makes every product the bus creates") {
    memory::store store;
    int made = 0;
    auto bus = bootstrap(store, {}, with_product_factory([&](const sku& code, const replenishment&) {
        ++made;
        return product{code, replenishment{.reorder_point = quantity{3}, .max_level = std::nullopt, .multiple = std::nullopt}};
    }));
    REQUIRE(bus.handle(commands::create_batch{.ref = batch_ref{"b1"}, .sku = sku{"LAMP"}, .qty = quantity{5}}));
    REQUIRE(bus.handle(commands::create_batch{.ref = batch_ref{"b2"}, .sku = sku{"LAMP"}, .qty = quantity{5}}));
    CHECK(made == 1);
    store.read(sku{"LAMP"}, [](const product& p) { CHECK(p.replenishment().reorder_point == quantity{3}); });
}
}
