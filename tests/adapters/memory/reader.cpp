// allocation — tests of allocation/adapters/memory/reader.hpp: the in-memory store's reads of
// committed state, which never wait for a unit of work.
// SPDX-License-Identifier: MIT
#include <allocation/adapters/memory/reader.hpp>

#include <chrono>    // year, month, day
#include <cstdint>   // uint32_t
#include <optional>  // optional
#include <random>    // mt19937

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <allocation/adapters/memory/store.hpp>
#include <allocation/bus/bootstrap.hpp>
#include <allocation/strategies/best_fit.hpp>

using namespace allocation;

namespace {

void seed(memory::store& store) {
    auto uow = store.begin();
    REQUIRE(uow.products().add(product{sku{"LAMP"}}));
    product* p = uow.products().get(sku{"LAMP"}).value();
    REQUIRE(p->add_batch(batch_ref{"ship"}, quantity{5}, date{std::chrono::year{2030}, std::chrono::month{1}, std::chrono::day{2}}));
    REQUIRE(p->add_batch(batch_ref{"shelf"}, quantity{10}));
    REQUIRE(p->allocate({order_id{"o1"}, sku{"LAMP"}, quantity{3}}));
    REQUIRE(uow.commit());
}

}  // namespace

TEST_SUITE("memory") {

TEST_CASE("the memory store reads a committed product with its batches in preference order") {
    memory::store store;
    seed(store);
    const auto state = store.read_product(sku{"LAMP"});
    REQUIRE(state);
    REQUIRE(state.value());
    CHECK(state.value()->version == 3);  // two batches added, one line allocated
    CHECK(state.value()->available == quantity{12});
    REQUIRE(state.value()->batches.size() == 2);
    CHECK(state.value()->batches[0].ref == batch_ref{"shelf"});
    CHECK(state.value()->batches[0].allocated == quantity{3});
    CHECK(state.value()->batches[1].ref == batch_ref{"ship"});
    CHECK_FALSE(store.read_product(sku{"NOPE"}).value());
}

TEST_CASE("the memory store reads a batch by reference and the allocations of an order") {
    memory::store store;
    seed(store);
    const auto b = store.read_batch(batch_ref{"shelf"}).value();
    REQUIRE(b);
    CHECK(b->sku == sku{"LAMP"});
    CHECK(b->available() == quantity{7});
    CHECK_FALSE(store.read_batch(batch_ref{"nope"}).value());
    const auto rows = store.read_allocations(order_id{"o1"}).value();
    REQUIRE(rows.size() == 1);
    CHECK(rows[0] == line_allocation{sku{"LAMP"}, quantity{3}, batch_ref{"shelf"}});
    CHECK(store.read_allocations(order_id{"o2"}).value().empty());
}

TEST_CASE("a memory read sees only what was committed and does not wait for a held product") {
    memory::store store{std::chrono::milliseconds{0}};
    seed(store);
    auto uow = store.begin();
    product* p = uow.products().get(sku{"LAMP"}).value();
    REQUIRE(p->allocate({order_id{"o2"}, sku{"LAMP"}, quantity{2}}));
    REQUIRE(p->deallocate(order_id{"o1"}));
    // The product is held: a unit of work could not get it now, a read can.
    CHECK_FALSE(store.begin().products().get(sku{"LAMP"}));
    CHECK(store.read_product(sku{"LAMP"}).value()->available == quantity{12});
    CHECK(store.read_allocations(order_id{"o1"}).value().size() == 1);
    CHECK(store.read_allocations(order_id{"o2"}).value().empty());
    REQUIRE(uow.commit());
    CHECK(store.read_product(sku{"LAMP"}).value()->available == quantity{13});
    CHECK(store.read_allocations(order_id{"o1"}).value().empty());
    CHECK(store.read_allocations(order_id{"o2"}).value().size() == 1);
}

TEST_CASE("a memory read of a batch added to an existing product finds it after commit") {
    memory::store store;
    seed(store);
    auto uow = store.begin();
    REQUIRE(uow.products().get(sku{"LAMP"}).value()->add_batch(batch_ref{"late"}, quantity{1}));
    CHECK_FALSE(store.read_batch(batch_ref{"late"}).value());
    REQUIRE(uow.commit());
    CHECK(store.read_batch(batch_ref{"late"}).value());
}

}  // TEST_SUITE

namespace {

// Commands at random on one product through the bus, the read model checked against the product
// after each: batches with few distinct ETAs (ties keep insertion order), lines, deallocations,
// shrinks (the bus reallocates what a shrink gives back), holds confirmed, released or left to
// expire as a test clock moves, and backordered orders.
template <class Product>
void check_read_model_follows_the_product(std::uint32_t seed) {
    memory::basic_store<Product> store;
    manual_clock clock{timestamp{std::chrono::seconds{1000}}};
    auto bus = bootstrap(store, bootstrap_options{}, with_clock(clock));
    std::mt19937 random(seed);
    const auto pick = [&](int n) { return static_cast<int>(random() % static_cast<unsigned>(n)); };
    int batches = 0;
    int orders = 0;
    for (int step = 0; step < 300; ++step) {
        const int what = batches == 0 ? 0 : pick(15);
        if (what == 0) {
            std::optional<date> eta;
            if (const int d = pick(4); d > 0) eta = date{std::chrono::year{2030}, std::chrono::month{1}, std::chrono::day{static_cast<unsigned>(d)}};
            REQUIRE(bus.handle(commands::create_batch{.ref = batch_ref{fmt::format("b{}", batches++)},
                                                      .sku = sku{"LAMP"},
                                                      .qty = quantity{1 + pick(20)},
                                                      .eta = eta}));
        } else if (what <= 6) {
            (void)bus.handle(commands::allocate{order_id{fmt::format("o{}", orders++)}, sku{"LAMP"}, quantity{1 + pick(6)}});
        } else if (what <= 8) {
            (void)bus.handle(commands::deallocate{order_id{fmt::format("o{}", pick(orders + 1))}, sku{"LAMP"}});
        } else if (what == 9) {
            REQUIRE(bus.handle(commands::change_batch_quantity{batch_ref{fmt::format("b{}", pick(batches))},
                                                               quantity{1 + pick(20)}}));
        } else if (what == 10) {
            (void)bus.handle(commands::hold{.order = order_id{fmt::format("o{}", orders++)},
                                            .lines = {{sku{"LAMP"}, quantity{1 + pick(6)}}},
                                            .ttl = std::chrono::seconds{1 + pick(5)}});
        } else if (what == 11) {
            const auto order = order_id{fmt::format("o{}", pick(orders + 1))};
            std::optional<quantity> qty;
            if (pick(2) == 0) qty = quantity{pick(4)};
            (void)bus.handle(commands::confirm_hold{.order = order, .lines = {{sku{"LAMP"}, qty}}});
        } else if (what == 12) {
            (void)bus.handle(commands::release_hold{.order = order_id{fmt::format("o{}", pick(orders + 1))}, .skus = {sku{"LAMP"}}});
        } else if (what == 13) {
            clock.advance(std::chrono::milliseconds{pick(3000)});
            if (pick(2) == 0) REQUIRE(bus.handle(commands::expire_holds{}));
        } else {
            (void)bus.handle(commands::allocate_order{.order = order_id{fmt::format("o{}", orders++)},
                                                      .lines = {{sku{"LAMP"}, quantity{1 + pick(10)}}},
                                                      .policy = order_policy::backorder,
                                                      .priority = pick(3)});
        }
        std::optional<product_state> expected;
        REQUIRE(store.read(sku{"LAMP"}, [&](const Product& p) { expected = state_of(p); }));
        CAPTURE(step);
        REQUIRE(store.read_product(sku{"LAMP"}).value() == expected);
        for (const auto& b : expected->batches) REQUIRE(store.read_batch(b.ref).value() == b);
        for (const auto& h : expected->holds) {
            REQUIRE(store.read_holds(h.order).value() == std::vector<held_line>{{sku{"LAMP"}, h}});
        }
    }
}

}  // namespace

TEST_CASE_TEMPLATE("the memory read model, kept commit by commit, is the product's state after any sequence of commands",
                   Product, product, basic_product<best_fit>) {
    for (std::uint32_t seed = 1; seed <= 5; ++seed) {
        CAPTURE(seed);
        check_read_model_follows_the_product<Product>(seed);
    }
}
