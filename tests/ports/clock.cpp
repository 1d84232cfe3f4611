// allocation — tests of allocation/ports/clock.hpp: the system clock and the manual clock.
// SPDX-License-Identifier: MIT
#include <allocation/ports/clock.hpp>

#include <doctest/doctest.h>

#include <chrono>

using namespace allocation;
using namespace std::chrono_literals;

TEST_SUITE("ports") {
TEST_CASE("the system clock tells the time to the millisecond") {
    const auto before = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
    const auto t = system_clock{}.now();
    const auto after = std::chrono::system_clock::now();
    CHECK(t >= before);
    CHECK(t <= after);
}

TEST_CASE("a manual clock moves only when told, and its copies move with it") {
    manual_clock clock{timestamp{10s}};
    const auto copy = clock;
    CHECK(clock.now() == timestamp{10s});
    clock.advance(1500ms);
    CHECK(copy.now() == timestamp{11500ms});
    clock.set(timestamp{2s});
    CHECK(copy.now() == timestamp{2s});
    CHECK(manual_clock{}.now() == timestamp{});
}

TEST_CASE("a clock is anything whose now() gives a timestamp") {
    struct fixed {
        auto now() const -> timestamp { return timestamp{1s}; }
    };
    struct no_now {};
    CHECK(tells_time<fixed>);
    CHECK(tells_time<manual_clock>);
    CHECK_FALSE(tells_time<no_now>);
    CHECK_FALSE(tells_time<int>);
}
}
