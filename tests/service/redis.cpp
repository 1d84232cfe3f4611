// Tests of examples/service/redis.hpp against a real redis-server started for each test.
// SPDX-License-Identifier: MIT
#include "redis.hpp"

#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "process.hpp"

namespace redis_tests {

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

auto endpoint_of(const allocation::test::redis_server& server) -> redis_endpoint {
    return redis_endpoint{"127.0.0.1", server.port(), "", 0};
}

/// Messages received by a subscriber, in order.
struct inbox {
    std::mutex mutex;
    std::vector<std::string> messages;

    void add(std::string_view m) {
        const std::lock_guard lock(mutex);
        messages.emplace_back(m);
    }
    auto wait_for(std::size_t n, std::chrono::milliseconds timeout) -> std::vector<std::string> {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            {
                const std::lock_guard lock(mutex);
                if (messages.size() >= n || std::chrono::steady_clock::now() >= deadline) return messages;
            }
            std::this_thread::sleep_for(5ms);
        }
    }
};

void publish_raw(int port, const char* channel, const char* message) {
    std::string error;
    auto ctx = detail::redis_connect(redis_endpoint{"127.0.0.1", port, "", 0}, error);
    REQUIRE_MESSAGE(ctx, error);
    REQUIRE(detail::redis_command(ctx.get(), error, "PUBLISH %s %s", channel, message));
}

}  // namespace

TEST_SUITE("service") {

TEST_CASE("the subscriber hands over each message and subscribes again after Redis restarts") {
    if (!have_redis_server()) {
        MESSAGE("redis-server not found, skipped");
        return;
    }
    allocation::test::redis_server server(ALLOCATION_REDIS_SERVER);
    inbox received;
    redis_subscriber subscriber(endpoint_of(server), {"change_batch_quantity"},
                                [&](std::string_view channel, std::string_view payload) {
                                    CHECK(channel == "change_batch_quantity");
                                    received.add(payload);
                                });
    REQUIRE(subscriber.wait_subscribed(5s));
    publish_raw(server.port(), "change_batch_quantity", R"({"batchref":"b1","qty":1})");
    publish_raw(server.port(), "other_channel", "ignored");
    CHECK(received.wait_for(1, 5s) == std::vector<std::string>{R"({"batchref":"b1","qty":1})"});

    server.stop();
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (subscriber.subscribed() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
    CHECK_FALSE(subscriber.subscribed());
    server.start();
    REQUIRE(subscriber.wait_subscribed(15s));
    publish_raw(server.port(), "change_batch_quantity", "second");
    CHECK(received.wait_for(2, 5s).size() == 2);
}

TEST_CASE("the publisher keeps messages while Redis is down and sends them, in order, once it is back") {
    if (!have_redis_server()) {
        MESSAGE("redis-server not found, skipped");
        return;
    }
    allocation::test::redis_server server(ALLOCATION_REDIS_SERVER);
    redis_publisher publisher(endpoint_of(server));
    inbox received;
    {
        redis_subscriber listener(endpoint_of(server), {"line_allocated"},
                                  [&](std::string_view, std::string_view payload) { received.add(payload); });
        REQUIRE(listener.wait_subscribed(5s));
        CHECK(publisher.publish("line_allocated", "1"));
        CHECK(publisher.flush(5s));
        CHECK(received.wait_for(1, 5s).size() == 1);
    }
    server.stop();
    for (const char* m : {"2", "3", "4"}) CHECK(publisher.publish("line_allocated", m));
    // Down long enough for the publisher to fail a few times (its retry delay grows past 400 ms),
    // so the listener below subscribes before the publisher reconnects.
    std::this_thread::sleep_for(1s);
    CHECK(publisher.pending() == 3);
    server.start();
    redis_subscriber listener(endpoint_of(server), {"line_allocated"},
                              [&](std::string_view, std::string_view payload) { received.add(payload); });
    REQUIRE(listener.wait_subscribed(5s));
    CHECK(publisher.flush(15s));
    CHECK(received.wait_for(4, 5s) == std::vector<std::string>{"1", "2", "3", "4"});
}

TEST_CASE("stopping a publisher that cannot reach Redis returns after the drain time") {
    redis_publisher publisher(redis_endpoint{"127.0.0.1", allocation::test::free_port(), "", 0});
    CHECK(publisher.publish("line_allocated", "lost"));
    const auto start = std::chrono::steady_clock::now();
    publisher.stop(200ms);
    CHECK(std::chrono::steady_clock::now() - start < 3s);
    CHECK(publisher.pending() == 1);
}

}  // TEST_SUITE
}  // namespace redis_tests
