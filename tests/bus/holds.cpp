// allocation — tests of holds, order policies and backorders through the message bus (the
// handlers of bus/handlers.hpp, the bus's clock, the observers bootstrap connects).
// SPDX-License-Identifier: MIT
#include <allocation/bus/bootstrap.hpp>

#include <allocation/adapters/common/inbox.hpp>
#include <allocation/adapters/memory/allocations_view.hpp>
#include <allocation/adapters/memory/notifications.hpp>
#include <allocation/adapters/memory/unit_of_work.hpp>
#include <allocation/ports/clock.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <map>
#include <string>
#include <variant>
#include <vector>

using namespace allocation;
using namespace std::chrono_literals;

namespace {
auto at(std::chrono::seconds s) -> timestamp { return timestamp{s}; }

template <class Event>
auto published(const memory::publisher& pub) -> std::vector<Event> {
    std::vector<Event> out;
    for (const auto& m : pub.published()) {
        if (const auto* e = std::get_if<Event>(&m.event)) out.push_back(*e);
    }
    return out;
}

struct fixture {
    memory::store store;
    manual_clock clock{at(1000s)};
    memory::publisher pub;
    memory::allocations_view view;
    basic_message_bus<memory::store> bus =
        bootstrap(store, {.retry = {}, .log = [](std::string_view) {}}, with_clock(clock), std::ref(pub), std::ref(view));
    fixture() {
        REQUIRE(bus.handle(commands::create_batch{.ref = batch_ref{"lamps"}, .sku = sku{"LAMP"}, .qty = quantity{10}}));
        REQUIRE(bus.handle(commands::create_batch{.ref = batch_ref{"desks"}, .sku = sku{"DESK"}, .qty = quantity{4}}));
    }
    auto hold(const char* order, std::int64_t lamps, std::int64_t desks, std::chrono::seconds ttl = 60s) {
        commands::hold cmd{.order = order_id{order}, .lines = {}, .ttl = ttl};
        if (lamps > 0) cmd.lines.push_back({sku{"LAMP"}, quantity{lamps}});
        if (desks > 0) cmd.lines.push_back({sku{"DESK"}, quantity{desks}});
        return bus.handle(cmd);
    }
    auto available(const char* code) -> quantity {
        return store.read_product(sku{code}).value()->available;
    }
};

// A memory store with an inbox, as a database store has one.
struct inbox_store {
    memory::store inner;
    std::map<std::string, std::string> processed;
    struct uow {
        inbox_store* store;
        memory::unit_of_work inner;
        allocation::detail::staged_inbox staged;
        auto products() -> memory::repository& { return inner.products(); }
        auto commit() -> result<void> {
            ALLOCATION_TRYV(inner.commit());
            for (const auto& [id, text] : staged.entries()) store->processed.insert_or_assign(id, text);
            staged.clear();
            return success();
        }
        void rollback() noexcept {
            staged.clear();
            inner.rollback();
        }
        auto collect_new_events() -> std::vector<events::event> { return inner.collect_new_events(); }
        auto find_processed(const std::string& id) -> result<std::optional<std::string>> {
            if (auto s = staged.find(id)) return s;
            const auto it = store->processed.find(id);
            if (it == store->processed.end()) return std::optional<std::string>{};
            return std::optional<std::string>{it->second};
        }
        auto record_processed(const std::string& id, std::string text) -> result<void> {
            staged.record(id, std::move(text));
            return success();
        }
    };
    auto begin() -> uow { return uow{this, inner.begin(), {}}; }
};
static_assert(records_processed_messages<inbox_store::uow>);
}  // namespace

TEST_SUITE("bus") {
TEST_CASE_FIXTURE(fixture, "a hold placed within a second lives at least its ttl, to the next whole second") {
    clock.advance(std::chrono::milliseconds{999});
    const auto h = hold("o1", 3, 0, 1s);
    REQUIRE(h);
    CHECK(h.value().expires_at == at(1002s));
    clock.set(at(1001s) + std::chrono::milliseconds{999});
    CHECK(available("LAMP") == quantity{7});
    CHECK(bus.handle(commands::expire_holds{}).value() == 0);
    clock.set(at(1002s));
    CHECK(bus.handle(commands::expire_holds{}).value() == 1);
    CHECK(available("LAMP") == quantity{10});
}

TEST_CASE_FIXTURE(fixture, "a hold through the bus holds every line until the clock's time plus its ttl") {
    const auto h = hold("o1", 3, 2, 60s);
    REQUIRE(h);
    CHECK(h.value().order == order_id{"o1"});
    CHECK(h.value().expires_at == at(1060s));
    CHECK_FALSE(h.value().replayed);
    CHECK(h.value().lines == std::vector<line_allocation>{{sku{"LAMP"}, quantity{3}, batch_ref{"lamps"}},
                                                          {sku{"DESK"}, quantity{2}, batch_ref{"desks"}}});
    CHECK(available("LAMP") == quantity{7});
    CHECK(published<events::hold_placed>(pub).size() == 2);
    SUBCASE("the same lines again are answered with the live hold") {
        clock.advance(10s);
        const auto again = hold("o1", 3, 2, 60s);
        REQUIRE(again);
        CHECK(again.value().replayed);
        CHECK(again.value().expires_at == at(1060s));
        CHECK(again.value().lines == h.value().lines);
        CHECK(published<events::hold_placed>(pub).size() == 2);
    }
    SUBCASE("other lines for the order are refused and nothing changes") {
        CHECK(hold("o1", 3, 0).error() == errc::hold_conflict);
        CHECK(hold("o1", 3, 1).error() == errc::hold_conflict);
        CHECK(available("LAMP") == quantity{7});
    }
    SUBCASE("a line that cannot be held holds nothing") {
        CHECK(hold("o2", 1, 3).error() == errc::out_of_stock);
        CHECK(available("LAMP") == quantity{7});
        CHECK(available("DESK") == quantity{2});
    }
    SUBCASE("an unknown SKU is refused") {
        CHECK(bus.handle(commands::hold{.order = order_id{"o3"}, .lines = {{sku{"NOPE"}, quantity{1}}}}).error() ==
              errc::invalid_sku);
    }
}

TEST_CASE_FIXTURE(fixture, "a confirmed hold becomes allocations in the held batches, published and listed") {
    REQUIRE(hold("o1", 3, 2));
    const auto c = bus.handle(commands::confirm_hold{
        .order = order_id{"o1"}, .lines = {{sku{"LAMP"}, quantity{1}}, {sku{"DESK"}, std::nullopt}}});
    REQUIRE(c);
    CHECK(c.value() == std::vector<line_allocation>{{sku{"LAMP"}, quantity{1}, batch_ref{"lamps"}},
                                                    {sku{"DESK"}, quantity{2}, batch_ref{"desks"}}});
    CHECK(available("LAMP") == quantity{9});
    CHECK(published<events::allocated>(pub).size() == 2);
    CHECK(published<events::hold_released>(pub).size() == 1);
    CHECK(view.get(order_id{"o1"}).value().size() == 2);
    SUBCASE("the same confirmation again gives the same answer") {
        const auto again = bus.handle(commands::confirm_hold{
            .order = order_id{"o1"}, .lines = {{sku{"LAMP"}, quantity{1}}, {sku{"DESK"}, std::nullopt}}});
        CHECK(again.value() == c.value());
        CHECK(published<events::allocated>(pub).size() == 2);
    }
}

TEST_CASE_FIXTURE(fixture, "a confirmation names every line of the hold and never more than is held") {
    REQUIRE(hold("o1", 3, 2));
    CHECK(bus.handle(commands::confirm_hold{.order = order_id{"o1"}, .lines = {{sku{"LAMP"}, std::nullopt}}}).error() ==
          errc::hold_conflict);
    CHECK(bus.handle(commands::confirm_hold{
                         .order = order_id{"o1"}, .lines = {{sku{"LAMP"}, quantity{4}}, {sku{"DESK"}, std::nullopt}}})
              .error() == errc::exceeds_hold);
    CHECK(bus.handle(commands::confirm_hold{.order = order_id{"o9"}, .lines = {{sku{"LAMP"}, std::nullopt}}}).error() ==
          errc::not_held);
    CHECK(available("LAMP") == quantity{7});
    REQUIRE(hold("o2", 1, 0));
    CHECK(bus.handle(commands::confirm_hold{
                         .order = order_id{"o2"}, .lines = {{sku{"DESK"}, quantity{1}}, {sku{"LAMP"}, quantity{0}}}})
              .error() == errc::exceeds_hold);  // a SKU the hold does not have, beside its own line
    CHECK(available("LAMP") == quantity{6});
    SUBCASE("a line of quantity zero is released") {
        const auto c = bus.handle(commands::confirm_hold{
            .order = order_id{"o1"}, .lines = {{sku{"LAMP"}, quantity{0}}, {sku{"DESK"}, quantity{2}}}});
        REQUIRE(c);
        CHECK(c.value() == std::vector<line_allocation>{{sku{"DESK"}, quantity{2}, batch_ref{"desks"}}});
        CHECK(available("LAMP") == quantity{9});
    }
    SUBCASE("past its deadline it has expired") {
        clock.advance(60s);
        CHECK(bus.handle(commands::confirm_hold{.order = order_id{"o1"},
                                                .lines = {{sku{"LAMP"}, std::nullopt}, {sku{"DESK"}, std::nullopt}}})
                  .error() == errc::hold_expired);
    }
}

TEST_CASE_FIXTURE(fixture, "a released hold gives everything back") {
    REQUIRE(hold("o1", 3, 2));
    const auto r = bus.handle(commands::release_hold{.order = order_id{"o1"}, .skus = {sku{"LAMP"}, sku{"DESK"}}});
    REQUIRE(r);
    CHECK(r.value() == std::vector<line_allocation>{{sku{"LAMP"}, quantity{3}, batch_ref{"lamps"}},
                                                    {sku{"DESK"}, quantity{2}, batch_ref{"desks"}}});
    CHECK(available("LAMP") == quantity{10});
    CHECK(published<events::hold_released>(pub).size() == 2);
    CHECK(bus.handle(commands::release_hold{.order = order_id{"o1"}, .skus = {sku{"LAMP"}, sku{"DESK"}}}).error() ==
          errc::not_held);
}

TEST_CASE_FIXTURE(fixture, "an expired hold frees its stock at its deadline and the sweep publishes it once") {
    REQUIRE(hold("o1", 10, 0, 30s));
    CHECK(bus.handle(commands::allocate{order_id{"o2"}, sku{"LAMP"}, quantity{1}}).error() == errc::out_of_stock);
    clock.advance(30s);
    CHECK(bus.handle(commands::allocate{order_id{"o2"}, sku{"LAMP"}, quantity{1}}).value() == batch_ref{"lamps"});
    CHECK(published<events::hold_expired>(pub).empty());
    CHECK(store.skus_with_holds().value() == std::vector<sku>{sku{"LAMP"}});
    CHECK(bus.handle(commands::expire_holds{}).value() == 1);
    CHECK(published<events::hold_expired>(pub) ==
          std::vector<events::hold_expired>{{order_id{"o1"}, sku{"LAMP"}, quantity{10}, batch_ref{"lamps"}}});
    CHECK(bus.handle(commands::expire_holds{}).value() == 0);
    CHECK(store.skus_with_holds().value().empty());
}

TEST_CASE_FIXTURE(fixture, "an order with a live hold is refused a hold of other lines, whichever products they name") {
    REQUIRE(hold("o1", 2, 0));
    CHECK(hold("o1", 0, 1).error() == errc::hold_conflict);  // another product than the live hold's
    CHECK(hold("o1", 3, 0).error() == errc::hold_conflict);  // the same product, another quantity
    CHECK(hold("o1", 2, 1).error() == errc::hold_conflict);  // the live line and one more
    CHECK(available("DESK") == quantity{4});
    CHECK(published<events::hold_placed>(pub).size() == 1);
    const auto again = hold("o1", 2, 0);
    REQUIRE(again);
    CHECK(again.value().replayed);
    clock.advance(60s);
    CHECK(hold("o1", 0, 1).has_value());  // past its deadline the old hold no longer stands in the way
}

TEST_CASE_FIXTURE(fixture, "a hold past its deadline is answered as expired when confirmed, before and after the sweep") {
    REQUIRE(hold("o1", 2, 1, 30s));
    clock.advance(30s);
    const commands::confirm_hold both{.order = order_id{"o1"}, .lines = {{sku{"LAMP"}, std::nullopt}, {sku{"DESK"}, std::nullopt}}};
    CHECK(bus.handle(both).error() == errc::hold_expired);
    REQUIRE(bus.handle(commands::expire_holds{}).value() == 2);
    CHECK(bus.handle(both).error() == errc::hold_expired);
    CHECK(bus.handle(commands::confirm_hold{.order = order_id{"o1"}, .lines = {}}).error() == errc::hold_expired);
    CHECK(bus.handle(commands::confirm_hold{.order = order_id{"o9"}, .lines = {}}).error() == errc::not_held);
    CHECK(bus.handle(commands::confirm_hold{.order = order_id{"o9"}, .lines = {{sku{"LAMP"}, std::nullopt}}}).error() ==
          errc::not_held);
    SUBCASE("the order holds again, and that hold is confirmed or expires like any other") {
        REQUIRE(hold("o1", 3, 0, 10s));
        const commands::confirm_hold lamps{.order = order_id{"o1"}, .lines = {{sku{"LAMP"}, std::nullopt}}};
        SUBCASE("confirmed") {
            CHECK(bus.handle(lamps).value() == std::vector<line_allocation>{{sku{"LAMP"}, quantity{3}, batch_ref{"lamps"}}});
        }
        SUBCASE("expired and swept again") {
            clock.advance(10s);
            CHECK(bus.handle(commands::expire_holds{}).value() == 1);
            CHECK(bus.handle(lamps).error() == errc::hold_expired);
        }
    }
}

TEST_CASE_FIXTURE(fixture, "a backordered order queues the rest and is filled as stock arrives") {
    const auto first = bus.handle(commands::allocate_order{.order = order_id{"o1"},
                                                           .lines = {{sku{"DESK"}, quantity{6}}},
                                                           .policy = order_policy::backorder,
                                                           .priority = 1});
    REQUIRE(first);
    CHECK(first.value() == std::vector<line_allocation>{{sku{"DESK"}, quantity{4}, batch_ref{"desks"}}});
    CHECK(published<events::backordered>(pub) ==
          std::vector<events::backordered>{{order_id{"o1"}, sku{"DESK"}, quantity{2}, 1}});
    REQUIRE(bus.handle(commands::create_batch{.ref = batch_ref{"more-desks"}, .sku = sku{"DESK"}, .qty = quantity{5}}));
    const auto allocated = published<events::allocated>(pub);
    REQUIRE(allocated.size() == 2);
    CHECK(allocated.back() == events::allocated{order_id{"o1"}, sku{"DESK"}, quantity{2}, batch_ref{"more-desks"}});
    CHECK(view.get(order_id{"o1"}).value().size() == 2);
    CHECK(available("DESK") == quantity{3});
    SUBCASE("a cancelled backorder is not filled") {
        REQUIRE(bus.handle(commands::allocate_order{.order = order_id{"o2"},
                                                    .lines = {{sku{"DESK"}, quantity{5}}},
                                                    .policy = order_policy::backorder}));
        REQUIRE(bus.handle(commands::cancel_backorder{.order = order_id{"o2"}, .sku = sku{"DESK"}}));
        CHECK(published<events::backorder_cancelled>(pub).size() == 1);
        CHECK(bus.handle(commands::cancel_backorder{.order = order_id{"o2"}, .sku = sku{"DESK"}}).error() ==
              errc::not_backordered);
    }
}

TEST_CASE_FIXTURE(fixture, "a partial order takes what is there and is refused when nothing is") {
    const auto got = bus.handle(commands::allocate_order{
        .order = order_id{"o1"}, .lines = {{sku{"DESK"}, quantity{6}}, {sku{"LAMP"}, quantity{2}}}, .policy = order_policy::partial});
    REQUIRE(got);
    CHECK(got.value() == std::vector<line_allocation>{{sku{"DESK"}, quantity{4}, batch_ref{"desks"}},
                                                      {sku{"LAMP"}, quantity{2}, batch_ref{"lamps"}}});
    CHECK(bus.handle(commands::allocate_order{
                         .order = order_id{"o2"}, .lines = {{sku{"DESK"}, quantity{1}}}, .policy = order_policy::partial})
              .error() == errc::out_of_stock);
}

TEST_CASE("the results of holds are replayed from the inbox without holding again") {
    inbox_store store;
    manual_clock clock{at(100s)};
    auto bus = bootstrap(store, {.retry = {}, .log = [](std::string_view) {}}, with_clock(clock));
    REQUIRE(bus.handle(commands::create_batch{.ref = batch_ref{"lamps"}, .sku = sku{"LAMP"}, .qty = quantity{10}}));
    const commands::hold cmd{.order = order_id{"o1"}, .lines = {{sku{"LAMP"}, quantity{3}}}, .ttl = 60s, .message_id = "m1"};
    const auto first = bus.handle(cmd);
    REQUIRE(first);
    clock.advance(5s);
    const auto again = bus.handle(cmd);
    REQUIRE(again);
    CHECK(again.value() == first.value());
    const commands::confirm_hold confirm{.order = order_id{"o1"}, .lines = {{sku{"LAMP"}, quantity{2}}}, .message_id = "m2"};
    const auto c = bus.handle(confirm);
    REQUIRE(c);
    CHECK(bus.handle(confirm).value() == c.value());
    const commands::hold refused{.order = order_id{"o2"}, .lines = {{sku{"LAMP"}, quantity{99}}}, .message_id = "m3"};
    CHECK(bus.handle(refused).error() == errc::out_of_stock);
    REQUIRE(bus.handle(commands::create_batch{.ref = batch_ref{"more"}, .sku = sku{"LAMP"}, .qty = quantity{100}}));
    CHECK(bus.handle(refused).error() == errc::out_of_stock);
    const commands::cancel_backorder cancel{.order = order_id{"o9"}, .sku = sku{"LAMP"}, .message_id = "m4"};
    CHECK(bus.handle(cancel).error() == errc::not_backordered);
    CHECK(store.processed.size() == 4);
}
}
