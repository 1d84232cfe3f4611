// allocation benchmarks — hold + confirm pairs per second through the message bus on the
// durable SQLite store (synchronous=FULL: every acknowledged Hold and ConfirmHold is on disk).
// SPDX-License-Identifier: MIT
//
// Arguments: the SKUs the threads spread over (1: every thread on one product, a hot SKU; 0:
// each thread on a SKU of its own), then the threads sending pairs at once. Each pair holds one
// unit for an order of its own and confirms it: two commits. The database is sqlite_holds.db in
// the working directory. Counters: items_per_second = pairs acknowledged per second;
// per_txn = commands per SQLite transaction (the group commit's batch).
//   cmake --workflow --preset release-bench && build/release-bench/benchmarks/sqlite_holds
#include <algorithm>   // max
#include <chrono>      // seconds
#include <cstdint>     // int64_t, uint64_t
#include <filesystem>  // remove
#include <memory>      // unique_ptr
#include <optional>    // optional
#include <string>      // string

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <allocation/adapters/sqlite.hpp>
#include <allocation/allocation.hpp>

namespace {

using namespace allocation;
using bus_type = basic_message_bus<sqlite::store>;

constexpr int max_threads = 64;
std::unique_ptr<sqlite::store> store;
std::optional<bus_type> bus;
std::uint64_t transactions_before = 0;

void open_store(const benchmark::State&) {
    const std::string path = "sqlite_holds.db";
    for (const auto* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    sqlite::options o;
    o.durability = sqlite::durability::full;
    store = sqlite::store::open(path, o).value();
    bus.emplace(bootstrap(*store, bootstrap_options{.retry = {}, .log = [](std::string_view) {}}));
    for (int t = 0; t < max_threads; ++t) {
        for (int b = 0; b < 10; ++b) {
            (void)bus->handle(commands::create_batch{batch_ref{fmt::format("b{}-{}", t, b)}, sku{fmt::format("S{}", t)},
                                                     quantity{max_quantity}});
        }
    }
    transactions_before = store->transactions();
}

void close_store(const benchmark::State&) {
    bus.reset();
    store.reset();
}

void hold_confirm(benchmark::State& state) {
    const sku code{fmt::format("S{}", state.range(0) == 1 ? 0 : state.thread_index())};
    std::int64_t n = 0;
    std::int64_t failed = 0;
    for (auto _ : state) {
        const order_id order{fmt::format("o{}-{}", state.thread_index(), n++)};
        const auto held = bus->handle(commands::hold{.order = order, .lines = {{code, quantity{1}}}, .ttl = std::chrono::seconds{900}});
        const auto confirmed = bus->handle(commands::confirm_hold{.order = order, .lines = {{code, std::nullopt}}});
        if (!held || !confirmed) ++failed;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    state.counters["failed"] = benchmark::Counter(static_cast<double>(failed), benchmark::Counter::kAvgThreads);
    if (state.thread_index() == 0) {
        state.counters["per_txn"] = benchmark::Counter(
            2.0 * static_cast<double>(state.iterations()) * state.threads() /
            static_cast<double>(std::max<std::uint64_t>(1, store->transactions() - transactions_before)));
    }
}

}  // namespace

BENCHMARK(hold_confirm)
    ->Setup(open_store)
    ->Teardown(close_store)
    ->ArgNames({"one_sku"})
    ->Arg(1)
    ->Arg(0)
    ->Threads(1)
    ->Threads(16)
    ->UseRealTime()
    ->MinTime(2.0);

BENCHMARK_MAIN();
