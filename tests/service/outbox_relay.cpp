// Tests of examples/service/outbox_relay.hpp: events of an SQLite outbox handed to a real
// redis-server, marked sent only once Redis took them.
// SPDX-License-Identifier: MIT
#include "outbox_relay.hpp"

#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <allocation/adapters/sqlite.hpp>
#include <allocation/bus/bootstrap.hpp>
#include <doctest/doctest.h>

#include "process.hpp"

namespace outbox_relay_tests {

using namespace allocation;
using namespace allocation::service;
using namespace std::chrono_literals;

#ifndef ALLOCATION_REDIS_SERVER
#define ALLOCATION_REDIS_SERVER ""
#endif

namespace {

auto have_redis_server() -> bool {
    const std::filesystem::path exe = ALLOCATION_REDIS_SERVER;
    return !exe.empty() && std::filesystem::exists(exe);
}

/// A store with one batch of 10 LAMPs and `n` lines of one LAMP allocated (n events in the outbox).
struct stocked_store {
    std::unique_ptr<sqlite::store> store = sqlite::store::open(":memory:").value();
    sqlite::outbox outbox{*store};

    explicit stocked_store(int n) {
        auto bus = bootstrap(*store);
        REQUIRE(bus.handle(commands::create_batch{.ref = batch_ref{"b1"}, .sku = sku{"LAMP"}, .qty = quantity{10},
                                                  .eta = std::nullopt, .expires = std::nullopt}));
        for (int i = 0; i < n; ++i) {
            REQUIRE(bus.handle(commands::allocate{.order = order_id{"o" + std::to_string(i)}, .sku = sku{"LAMP"},
                                                  .qty = quantity{1}}));
        }
    }
};

}  // namespace

TEST_SUITE("service") {

TEST_CASE("only line_allocated, line_deallocated, out_of_stock and low_stock become Redis messages") {
    const events::basic_event<default_traits> allocated = events::allocated{order_id{"o"}, sku{"S"}, quantity{2}, batch_ref{"b"}};
    const auto m = redis_message(allocated);
    REQUIRE(m);
    CHECK(m->first == "line_allocated");
    CHECK(m->second == R"({"orderid":"o","sku":"S","qty":2,"batchref":"b"})");
    const events::basic_event<default_traits> created =
        events::batch_created{batch_ref{"b"}, sku{"S"}, quantity{2}, std::nullopt};
    CHECK_FALSE(redis_message(created));
}

TEST_CASE("without Redis nothing is marked sent; once Redis is there every event goes out in order") {
    stocked_store s(3);
    REQUIRE(s.outbox.pending().value() == 4);  // batch_created and 3 line_allocated
    const auto port = allocation::test::free_port();
    redis_sender sender({"127.0.0.1", port, "", 0});
    auto step = relay_batch(s.outbox, sender, 100);
    REQUIRE(step);
    CHECK(step.value().redis_failed);
    CHECK(step.value().marked == 1);  // batch_created is not published: done at once
    CHECK(s.outbox.pending().value() == 3);
    if (!have_redis_server()) {
        MESSAGE("redis-server not found, the rest skipped");
        return;
    }
    allocation::test::redis_server redis(ALLOCATION_REDIS_SERVER, port);
    std::mutex mutex;
    std::vector<std::string> seen;
    redis_subscriber listener({"127.0.0.1", port, "", 0}, {"line_allocated"}, [&](std::string_view, std::string_view p) {
        const std::lock_guard lock(mutex);
        seen.emplace_back(p);
    });
    REQUIRE(listener.wait_subscribed(5s));
    step = relay_batch(s.outbox, sender, 100);
    REQUIRE(step);
    CHECK_FALSE(step.value().redis_failed);
    CHECK(step.value().marked == 3);
    CHECK(s.outbox.pending().value() == 0);
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    for (;;) {
        {
            const std::lock_guard lock(mutex);
            if (seen.size() >= 3 || std::chrono::steady_clock::now() > deadline) break;
        }
        std::this_thread::sleep_for(5ms);
    }
    const std::lock_guard lock(mutex);
    REQUIRE(seen.size() == 3);
    CHECK(seen[0] == R"({"orderid":"o0","sku":"LAMP","qty":1,"batchref":"b1"})");
    CHECK(seen[2] == R"({"orderid":"o2","sku":"LAMP","qty":1,"batchref":"b1"})");
}

TEST_CASE("the relay thread empties the outbox while Redis runs") {
    if (!have_redis_server()) {
        MESSAGE("redis-server not found, skipped");
        return;
    }
    allocation::test::redis_server redis(ALLOCATION_REDIS_SERVER);
    stocked_store s(5);
    outbox_relay<sqlite::outbox> relay(s.outbox, {"127.0.0.1", redis.port(), "", 0}, 5ms);
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (s.outbox.pending().value() != 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
    CHECK(s.outbox.pending().value() == 0);
    relay.stop(100ms);
    CHECK(relay.relayed() == 6);
}

}  // TEST_SUITE
}  // namespace outbox_relay_tests
