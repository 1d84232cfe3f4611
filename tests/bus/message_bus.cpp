// allocation — tests of allocation/bus/message_bus.hpp: commands, events, observers, retries.
// SPDX-License-Identifier: MIT
#include <allocation/bus/message_bus.hpp>

#include <allocation/bus/bootstrap.hpp>

#include <allocation/adapters/memory/unit_of_work.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

using namespace allocation;

namespace message_bus_tests {
auto day(unsigned d) -> date { return date{std::chrono::year{2026}, std::chrono::month{12}, std::chrono::day{d}}; }

// A store whose units of work fail their first `failures` commits with errc::conflict, as a
// database would when another writer got there first.
struct flaky_store {
    memory::store inner{std::chrono::milliseconds{0}};
    int failures = 0;
    int commits = 0;

    struct uow {
        flaky_store* store;
        memory::unit_of_work inner;
        auto products() -> memory::repository& { return inner.products(); }
        auto commit() -> result<void> {
            ++store->commits;
            if (store->failures > 0) {
                --store->failures;
                inner.rollback();
                return errc::conflict;
            }
            return inner.commit();
        }
        void rollback() noexcept { inner.rollback(); }
        auto collect_new_events() -> std::vector<events::event> { return inner.collect_new_events(); }
    };
    auto begin() -> uow { return uow{this, inner.begin()}; }
};
static_assert(unit_of_work_factory<flaky_store>);

struct fixture {
    memory::store store;
    basic_message_bus<memory::store> bus = bootstrap(store, {.retry = {}, .log = [](std::string_view) {}});
    fixture() {
        REQUIRE(bus.handle(commands::create_batch{.ref = batch_ref{"warehouse"}, .sku = sku{"CHAIR"}, .qty = quantity{10}}));
        REQUIRE(bus.handle(commands::create_batch{
            .ref = batch_ref{"ship"}, .sku = sku{"CHAIR"}, .qty = quantity{10}, .eta = day(5)}));
        REQUIRE(bus.handle(commands::create_batch{.ref = batch_ref{"lamps"}, .sku = sku{"LAMP"}, .qty = quantity{3}}));
    }
};

TEST_SUITE("bus") {
TEST_CASE_FIXTURE(fixture, "a command's result reaches the caller") {
    CHECK(bus.handle(commands::allocate{order_id{"o1"}, sku{"CHAIR"}, quantity{4}}).value() == batch_ref{"warehouse"});
    CHECK(bus.handle(commands::allocate{order_id{"o2"}, sku{"SOFA"}, quantity{1}}).error() == errc::invalid_sku);
    CHECK(bus.handle(commands::allocate{order_id{"o3"}, sku{"CHAIR"}, quantity{0}}).error() == errc::invalid_quantity);
    CHECK(bus.handle(commands::allocate{order_id{"o4"}, sku{"CHAIR"}, quantity{99}}).error() == errc::out_of_stock);
    CHECK(bus.handle(commands::change_batch_quantity{batch_ref{"nope"}, quantity{1}}).error() == errc::unknown_batch);
}

TEST_CASE_FIXTURE(fixture, "the same batch reference cannot be used for another SKU") {
    CHECK(bus.handle(commands::create_batch{.ref = batch_ref{"lamps"}, .sku = sku{"CHAIR"}, .qty = quantity{3}}).error() ==
          errc::duplicate_batch);
    CHECK(bus.handle(commands::create_batch{.ref = batch_ref{"lamps"}, .sku = sku{"LAMP"}, .qty = quantity{3}}));
}

TEST_CASE_FIXTURE(fixture, "events reach every observer of their type, in the order they were raised") {
    std::vector<std::string> seen;
    bus.on<events::allocated>([&](const events::allocated& e) { seen.push_back("allocated " + e.order.value); });
    bus.on<events::allocated>([&](const events::allocated& e) -> result<void> {
        seen.push_back("again " + e.order.value);
        return success();
    });
    bus.on<events::out_of_stock>([&](const events::out_of_stock& e) { seen.push_back("out " + e.order.value); });
    REQUIRE(bus.handle(commands::allocate{order_id{"o1"}, sku{"CHAIR"}, quantity{1}}));
    (void)bus.handle(commands::allocate{order_id{"o2"}, sku{"CHAIR"}, quantity{50}});
    CHECK(seen == std::vector<std::string>{"allocated o1", "again o1", "out o2"});
}

TEST_CASE_FIXTURE(fixture, "an observer that fails or throws does not stop the others") {
    int after = 0;
    bus.on<events::allocated>([](const events::allocated&) -> result<void> { return errc::storage_error; });
    bus.on<events::allocated>([](const events::allocated&) -> result<void> { throw std::runtime_error("boom"); });
    bus.on<events::allocated>([&](const events::allocated&) { ++after; });
    CHECK(bus.handle(commands::allocate{order_id{"o1"}, sku{"CHAIR"}, quantity{1}}));
    CHECK(after == 1);
    CHECK(bus.handle(events::event{events::allocated{}}) == 2);
}

TEST_CASE_FIXTURE(fixture, "an order takes all its lines or none") {
    SUBCASE("every line fits") {
        const auto r = bus.handle(commands::allocate_order{
            order_id{"o1"}, {{sku{"CHAIR"}, quantity{10}}, {sku{"LAMP"}, quantity{1}}}});
        REQUIRE(r);
        REQUIRE(r.value().size() == 2);
        CHECK(r.value()[0] == line_allocation{sku{"CHAIR"}, quantity{10}, batch_ref{"warehouse"}});
        CHECK(r.value()[1] == line_allocation{sku{"LAMP"}, quantity{1}, batch_ref{"lamps"}});
    }
    SUBCASE("one line out of stock leaves every product untouched") {
        std::vector<events::out_of_stock> out;
        bus.on<events::out_of_stock>([&](const events::out_of_stock& e) { out.push_back(e); });
        const auto r = bus.handle(commands::allocate_order{
            order_id{"o1"}, {{sku{"CHAIR"}, quantity{10}}, {sku{"LAMP"}, quantity{4}}}});
        CHECK(r.error() == errc::out_of_stock);
        store.read(sku{"CHAIR"}, [](const product& p) { CHECK(p.available() == quantity{20}); });
        store.read(sku{"LAMP"}, [](const product& p) { CHECK(p.available() == quantity{3}); });
        REQUIRE(out.size() == 1);
        CHECK(out[0].sku == sku{"LAMP"});
    }
    SUBCASE("an unknown SKU leaves every product untouched") {
        CHECK(bus.handle(commands::allocate_order{order_id{"o1"}, {{sku{"LAMP"}, quantity{1}}, {sku{"SOFA"}, quantity{1}}}})
                  .error() == errc::invalid_sku);
        store.read(sku{"LAMP"}, [](const product& p) { CHECK(p.available() == quantity{3}); });
    }
    SUBCASE("an order without lines is refused") {
        CHECK(bus.handle(commands::allocate_order{order_id{"o1"}, {}}).error() == errc::empty_order);
    }
}

TEST_CASE_FIXTURE(fixture, "lines of one SKU in an order are allocated as one summed line") {
    const auto r = bus.handle(commands::allocate_order{
        order_id{"o1"}, {{sku{"LAMP"}, quantity{2}}, {sku{"LAMP"}, quantity{2}}}});
    CHECK(r.error() == errc::out_of_stock);
    const auto ok = bus.handle(commands::allocate_order{
        order_id{"o2"}, {{sku{"LAMP"}, quantity{1}}, {sku{"LAMP"}, quantity{2}}}});
    REQUIRE(ok);
    REQUIRE(ok.value().size() == 1);
    CHECK(ok.value()[0].qty == quantity{3});
    store.read(sku{"LAMP"}, [](const product& p) { CHECK(p.available() == quantity{0}); });
}

TEST_CASE_FIXTURE(fixture, "a resubmitted order is answered with its allocations and raises nothing") {
    int allocated = 0;
    bus.on<events::allocated>([&](const events::allocated&) { ++allocated; });
    const commands::allocate_order order{order_id{"o1"}, {{sku{"CHAIR"}, quantity{2}}, {sku{"LAMP"}, quantity{1}}}};
    const auto first = bus.handle(order);
    const auto second = bus.handle(order);
    REQUIRE(first);
    REQUIRE(second);
    CHECK(first.value() == second.value());
    CHECK(allocated == 2);
    CHECK(bus.handle(commands::allocate_order{order_id{"o1"}, {{sku{"CHAIR"}, quantity{3}}}}).error() ==
          errc::conflicting_resubmission);
}

TEST_CASE_FIXTURE(fixture, "lines taken from a shrunk batch are reallocated to other batches") {
    std::vector<events::allocated> allocated;
    bus.on<events::allocated>([&](const events::allocated& e) { allocated.push_back(e); });
    REQUIRE(bus.handle(commands::allocate{order_id{"o1"}, sku{"CHAIR"}, quantity{6}}));
    REQUIRE(bus.handle(commands::allocate{order_id{"o2"}, sku{"CHAIR"}, quantity{4}}));
    REQUIRE(bus.handle(commands::change_batch_quantity{batch_ref{"warehouse"}, quantity{7}}));
    REQUIRE(allocated.size() == 3);
    CHECK(allocated[2] == events::allocated{order_id{"o2"}, sku{"CHAIR"}, quantity{4}, batch_ref{"ship"}});
    store.read(sku{"CHAIR"}, [](const product& p) {
        CHECK(p.find_batch(batch_ref{"warehouse"})->allocated() == quantity{6});
        CHECK(p.find_batch(batch_ref{"ship"})->allocated() == quantity{4});
    });
}

TEST_CASE_FIXTURE(fixture, "an observer may send commands, and the events they raise join the queue after the others") {
    std::vector<std::string> seen;
    bus.on<events::allocated>([&](const events::allocated& e) {
        seen.push_back(fmt::format("allocated {}", e.order));
        if (e.order == order_id{"o1"}) {
            REQUIRE(bus.sender().handle(commands::allocate{order_id{"o1-spare"}, sku{"LAMP"}, quantity{1}}));
        }
    });
    bus.on<events::allocated>([&](const events::allocated& e) { seen.push_back(fmt::format("second {}", e.order)); });
    REQUIRE(bus.handle(commands::allocate{order_id{"o1"}, sku{"LAMP"}, quantity{1}}));
    CHECK(seen == std::vector<std::string>{"allocated o1", "second o1", "allocated o1-spare", "second o1-spare"});
}

TEST_CASE_FIXTURE(fixture, "a bus moved elsewhere keeps serving its observers' commands") {
    auto moved = std::move(bus);
    int spare = 0;
    moved.on<events::allocated>([&, sender = &moved.sender()](const events::allocated& e) {
        if (e.order == order_id{"o1"}) spare += sender->handle(commands::allocate{order_id{"o2"}, sku{"LAMP"}, quantity{1}}) ? 1 : 0;
    });
    auto again = std::move(moved);
    REQUIRE(again.handle(commands::allocate{order_id{"o1"}, sku{"LAMP"}, quantity{1}}));
    CHECK(spare == 1);
}

TEST_CASE("a command that meets a conflict is retried, then the conflict is reported") {
    flaky_store store;
    basic_message_bus<flaky_store> bus{store, retry_policy{.attempts = 3, .backoff = std::chrono::microseconds{1}},
                                       [](std::string_view) {}};
    SUBCASE("two conflicts, then success on the third try") {
        store.failures = 2;
        CHECK(bus.handle(commands::create_batch{.ref = batch_ref{"b"}, .sku = sku{"S"}, .qty = quantity{1}}));
        CHECK(store.commits == 3);
    }
    SUBCASE("conflicts on every try") {
        store.failures = 5;
        CHECK(bus.handle(commands::create_batch{.ref = batch_ref{"b"}, .sku = sku{"S"}, .qty = quantity{1}}).error() ==
              errc::conflict);
        CHECK(store.commits == 3);
        CHECK(store.inner.size() == 0);
    }
}
}
}  // namespace message_bus_tests
