// allocation — holds on the memory store under concurrent writers: threads holding, confirming,
// releasing and expiring holds of one SKU through the bus never oversell, and every
// acknowledged confirmation is allocated after the run.
// SPDX-License-Identifier: MIT
#include <allocation/allocation.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

using namespace allocation;
using namespace std::chrono_literals;

TEST_SUITE("memory") {
TEST_CASE("threads holding and confirming on one SKU never oversell and keep every confirmation") {
    constexpr int threads = 6;
    constexpr int rounds = 150;
    memory::store store;
    manual_clock clock{timestamp{1000s}};
    auto bus = bootstrap(store, {.retry = {.attempts = 50}, .log = [](std::string_view) {}}, with_clock(clock));
    REQUIRE(bus.handle(commands::create_batch{.ref = batch_ref{"a"}, .sku = sku{"HOT"}, .qty = quantity{300}}));
    REQUIRE(bus.handle(commands::create_batch{.ref = batch_ref{"b"}, .sku = sku{"HOT"}, .qty = quantity{200}}));
    std::atomic<std::int64_t> confirmed{0};
    std::atomic<int> unexpected{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            for (int i = 0; i < rounds; ++i) {
                const order_id order{fmt::format("t{}-{}", t, i)};
                const std::int64_t qty = 1 + (i % 4);
                auto h = bus.handle(commands::hold{.order = order, .lines = {{sku{"HOT"}, quantity{qty}}}, .ttl = 30s});
                if (!h) {
                    if (h.error() != errc::out_of_stock) ++unexpected;
                    continue;
                }
                if (i % 5 == 0) {
                    if (!bus.handle(commands::release_hold{.order = order, .skus = {sku{"HOT"}}})) ++unexpected;
                    continue;
                }
                if (i % 7 == 0) clock.advance(1s);  // some holds run out while others are taken
                const auto c = bus.handle(commands::confirm_hold{.order = order, .lines = {{sku{"HOT"}, std::nullopt}}});
                if (c) {
                    confirmed += c.value().front().qty.value;
                } else if (c.error() != errc::hold_expired) {
                    ++unexpected;
                }
                if (t == 0 && i % 10 == 0) (void)bus.handle(commands::expire_holds{});
            }
        });
    }
    for (auto& th : pool) th.join();
    CHECK(unexpected == 0);
    clock.advance(60s);
    REQUIRE(bus.handle(commands::expire_holds{}));
    const auto state = store.read_product(sku{"HOT"}).value();
    REQUIRE(state);
    std::int64_t allocated = 0;
    for (const auto& b : state->batches) {
        CHECK(b.allocated.value + b.held.value <= b.purchased.value);
        CHECK(b.held == quantity{});
        allocated += b.allocated.value;
    }
    CHECK(allocated == confirmed.load());
    CHECK(confirmed.load() > 0);
    CHECK(store.skus_with_holds().value().empty());
}
}
