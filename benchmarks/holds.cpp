// allocation benchmark — holds and backorders: hold + confirm pairs per second through the
// message bus on the in-memory store, the cost of expiring holds (1M at once), and filling
// queued backorders when stock arrives (100k lines).
// SPDX-License-Identifier: MIT
// Rows:
//   bus/hold_confirm      one Hold then one ConfirmHold of one unit through bus.handle() on a
//                         product of 10 batches (items = pairs); the store is rebuilt every
//                         65,536 pairs with the timer paused.
//   product/expire/N      N holds of one product pass their deadline: advance() frees their
//                         stock (exact expiry) and expire_holds() sweeps them (HoldExpired each).
//   product/fill/N        N backorders of one unit queued on a product without stock, then a
//                         batch of N units arrives: add_batch() fills every one (Allocated each).
#include <allocation/allocation.hpp>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace allocation;
using namespace std::chrono_literals;
constexpr std::size_t window = 1U << 16;

auto orders(std::size_t n) -> std::vector<order_id> {
    std::vector<order_id> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) out.emplace_back(fmt::format("order-{}", i));
    return out;
}

struct bus_world {
    memory::store store;
    manual_clock clock{timestamp{1000s}};
    std::optional<basic_message_bus<memory::store>> bus;
    bus_world() {
        bus.emplace(bootstrap(store, bootstrap_options{}, with_clock(clock)));
        for (int b = 0; b < 10; ++b) {
            (void)bus->handle(commands::create_batch{.ref = batch_ref{fmt::format("batch-{}", b)},
                                                     .sku = sku{"SKU"},
                                                     .qty = quantity{1'000'000}});
        }
    }
};

void bus_hold_confirm(benchmark::State& state) {
    const auto ids = orders(window);
    auto w = std::make_unique<bus_world>();
    std::size_t i = 0;
    for (auto _ : state) {
        if (i == window) {
            state.PauseTiming();
            w = std::make_unique<bus_world>();
            i = 0;
            state.ResumeTiming();
        }
        auto h = w->bus->handle(commands::hold{.order = ids[i], .lines = {{sku{"SKU"}, quantity{1}}}, .ttl = 900s});
        auto c = w->bus->handle(commands::confirm_hold{.order = ids[i], .lines = {{sku{"SKU"}, std::nullopt}}});
        benchmark::DoNotOptimize(h);
        benchmark::DoNotOptimize(c);
        ++i;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(bus_hold_confirm)->Name("bus/hold_confirm");

void product_expire(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const auto ids = orders(n);
    for (auto _ : state) {
        state.PauseTiming();
        product p{sku{"SKU"}};
        (void)p.add_batch(batch_ref{"batch"}, quantity{static_cast<std::int64_t>(n)});
        for (std::size_t i = 0; i < n; ++i) {
            (void)p.hold({ids[i], sku{"SKU"}, quantity{1}}, timestamp{std::chrono::seconds{100 + static_cast<int>(i % 60)}},
                         timestamp{0s});
        }
        p.clear_events();
        state.ResumeTiming();
        p.advance(timestamp{200s});
        benchmark::DoNotOptimize(p.expire_holds(timestamp{200s}));
        state.PauseTiming();
        p = product{sku{"SKU"}};  // freed outside the timing
        state.ResumeTiming();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(product_expire)->Name("product/expire")->Arg(1'000'000)->Unit(benchmark::kMillisecond)->Iterations(3);

void product_fill(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const auto ids = orders(n);
    for (auto _ : state) {
        state.PauseTiming();
        product p{sku{"SKU"}};
        for (std::size_t i = 0; i < n; ++i) {
            (void)p.allocate_available({ids[i], sku{"SKU"}, quantity{1}}, order_policy::backorder,
                                       static_cast<std::int64_t>(i % 3));
        }
        p.clear_events();
        state.ResumeTiming();
        (void)p.add_batch(batch_ref{"arrival"}, quantity{static_cast<std::int64_t>(n)});
        benchmark::DoNotOptimize(p.backorder_count());
        state.PauseTiming();
        p = product{sku{"SKU"}};
        state.ResumeTiming();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(product_fill)->Name("product/fill")->Arg(100'000)->Unit(benchmark::kMillisecond)->Iterations(5);

}  // namespace
