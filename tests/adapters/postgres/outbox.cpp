// allocation tests — the PostgreSQL outbox: events written with their commit, relayed once.
// SPDX-License-Identifier: MIT
#include <algorithm>  // sort, adjacent_find
#include <cstdint>    // int64_t
#include <mutex>      // mutex, lock_guard
#include <span>       // span
#include <string>     // string
#include <thread>     // thread
#include <type_traits>  // is_same_v
#include <vector>     // vector

#include <doctest/doctest.h>

#include <allocation/adapters/memory/notifications.hpp>
#include <allocation/adapters/postgres/grouped_store.hpp>
#include <allocation/adapters/postgres/store.hpp>
#include <allocation/bus/bootstrap.hpp>
#include <allocation/bus/handlers.hpp>

#include "adapters/postgres/server.hpp"

using namespace allocation;
using allocation::testing::postgres::fresh_store;

namespace {

// Runs a handler in its own unit of work and returns the events it committed.
template <class F>
auto committed_events(postgres::store& s, F&& handler) -> std::vector<events::event> {
    auto uow = s.begin();
    (void)handler(uow);
    return uow.collect_new_events();
}

}  // namespace

TEST_SUITE("postgres") {

TEST_CASE("every committed event reaches the outbox and comes back out of it unchanged, in order") {
    fresh_store db;
    std::vector<events::event> expected;
    const auto run = [&](auto&& handler) {
        for (auto& e : committed_events(db.store, handler)) expected.push_back(std::move(e));
    };
    const date eta{std::chrono::year{2031}, std::chrono::month{2}, std::chrono::day{3}};
    run([&](auto& uow) {
        return handlers::create_batch(commands::create_batch{batch_ref{"b1"}, sku{"LAMP"}, quantity{10}, eta}, uow,
                                      replenishment{quantity{4}, quantity{20}, quantity{5}});
    });
    run([](auto& uow) { return handlers::allocate(commands::allocate{order_id{"o1"}, sku{"LAMP"}, quantity{7}}, uow); });
    run([](auto& uow) { return handlers::allocate(commands::allocate{order_id{"o2"}, sku{"LAMP"}, quantity{9}}, uow); });
    run([](auto& uow) {
        return handlers::change_batch_quantity(commands::change_batch_quantity{batch_ref{"b1"}, quantity{5}}, uow);
    });
    // batch_created, allocated + low_stock, out_of_stock, quantity changed + deallocated
    REQUIRE(expected.size() == 6);

    memory::publisher publisher;
    postgres::outbox relay(db.store);
    CHECK(relay.pending().value() == 6);
    std::vector<postgres::outbox::record> messages;
    CHECK(relay.take_unsent(1000, [&](std::span<const postgres::outbox::record> rows) {
                   messages.insert(messages.end(), rows.begin(), rows.end());
                   return rows.size();
               })
              .value() == 6);
    REQUIRE(messages.size() == 6);
    for (std::size_t i = 0; i < messages.size(); ++i) {
        CHECK(messages[i].event == expected[i]);
        CHECK(messages[i].channel == events::channel(expected[i]));
        if (i > 0) CHECK(messages[i].id > messages[i - 1].id);
    }
    CHECK(relay.pending().value() == 0);
    CHECK(relay.relay(publisher).value() == 0);  // each event is relayed once
}

TEST_CASE("events of a unit of work that did not commit never reach the outbox") {
    fresh_store db;
    (void)committed_events(db.store, [](auto& uow) {
        return handlers::create_batch(commands::create_batch{batch_ref{"b1"}, sku{"LAMP"}, quantity{10}}, uow);
    });
    {
        auto uow = db.store.begin();
        REQUIRE(uow.products().get(sku{"LAMP"}).value()->allocate({order_id{"o1"}, sku{"LAMP"}, quantity{1}}));
    }
    CHECK(postgres::outbox(db.store).pending().value() == 1);  // batch_created only
}

TEST_CASE("a publisher that fails leaves the event and those after it for the next relay") {
    fresh_store db;
    for (const char* ref : {"b1", "b2", "b3"}) {
        (void)committed_events(db.store, [&](auto& uow) {
            return handlers::create_batch(commands::create_batch{batch_ref{ref}, sku{"LAMP"}, quantity{1}}, uow);
        });
    }
    postgres::outbox relay(db.store);
    CHECK(relay.take_unsent(1000, [&](std::span<const postgres::outbox::record> rows) {
                   CHECK(rows.size() == 3);
                   return std::size_t{1};  // the second one failed
               })
              .value() == 1);
    CHECK(relay.pending().value() == 2);
    memory::publisher publisher;
    SUBCASE("an event publisher gets the events of the types it takes") {
        CHECK(relay.relay(publisher).value() == 2);
        CHECK(publisher.published().size() == 2);
        CHECK(publisher.published()[0].channel == "batch_created");
    }
}

TEST_CASE("relays running at once publish each event exactly once") {
    fresh_store db;
    for (int i = 0; i < 40; ++i) {
        (void)committed_events(db.store, [&](auto& uow) {
            return handlers::create_batch(
                commands::create_batch{batch_ref{fmt::format("b{}", i)}, sku{fmt::format("S{}", i % 4)}, quantity{1}}, uow);
        });
    }
    std::mutex mutex;
    std::vector<std::int64_t> ids;
    std::vector<std::thread> relays;
    for (int t = 0; t < 4; ++t) {
        relays.emplace_back([&] {
            postgres::outbox relay(db.store);
            for (;;) {
                const auto n = relay.take_unsent(3, [&](std::span<const postgres::outbox::record> rows) {
                    const std::lock_guard lock(mutex);
                    for (const auto& m : rows) ids.push_back(m.id);
                    return rows.size();
                });
                if (!n || n.value() == 0) break;
            }
        });
    }
    for (auto& t : relays) t.join();
    std::sort(ids.begin(), ids.end());
    CHECK(ids.size() == 40);
    CHECK(std::adjacent_find(ids.begin(), ids.end()) == ids.end());
}

TEST_CASE("the outbox of a grouped store relays the events its grouped commits wrote, each once") {
    fresh_store db;
    postgres::grouped_store grouped(db.schema.url());
    {
        auto bus = bootstrap(grouped);
        REQUIRE(bus.handle(commands::create_batch{batch_ref{"b1"}, sku{"LAMP"}, quantity{10}}));
        std::vector<std::thread> threads;
        for (int t = 0; t < 3; ++t) {
            threads.emplace_back([&, t] {
                auto own = bootstrap(grouped);
                CHECK(own.handle(commands::allocate{order_id{fmt::format("o{}", t)}, sku{"LAMP"}, quantity{1}}));
            });
        }
        for (auto& th : threads) th.join();
    }
    postgres::basic_outbox relay(grouped);  // deduced from the grouped store
    static_assert(std::is_same_v<decltype(relay), postgres::outbox>);
    CHECK(relay.pending().value() == 4);  // batch_created, then allocated three times
    memory::publisher publisher;
    CHECK(relay.relay(publisher).value() == 4);
    REQUIRE(publisher.published().size() == 4);
    CHECK(publisher.published()[0].channel == "batch_created");
    for (std::size_t i = 1; i < 4; ++i) CHECK(publisher.published()[i].channel == "line_allocated");
    CHECK(relay.pending().value() == 0);
    CHECK(relay.relay(publisher).value() == 0);
}

}  // TEST_SUITE
