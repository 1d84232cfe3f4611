// allocation benchmarks — Allocate commands per second through the message bus on the SQLite
// store, every command acknowledged only once its commit is durable.
// SPDX-License-Identifier: MIT
//
// Arguments: durability (0 = synchronous=FULL, durable against power loss; 1 = NORMAL, durable
// against a process crash), then the workload (0 = spread: each thread on its own SKU; 1 = hot:
// every thread on ONE SKU, the flash-sale case), then the threads sending commands at once.
// The database is sqlite_bus.db in the working directory. Counters: items_per_second = Allocate
// commands acknowledged per second; per_txn = commands per SQLite transaction (the group
// commit's batch); failed = commands that did not succeed (per thread); pages = database pages
// written per command (WAL frames appended, counted by a WAL hook that also checkpoints as
// SQLite's default does every 1000 frames; at one thread, the B-tree pages one Allocate writes).
//   cmake --preset release-bench && cmake --build build/release-bench --target sqlite_bus
//   build/release-bench/benchmarks/sqlite_bus
#include <algorithm>   // max
#include <cstdint>     // int64_t
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
std::uint64_t frames = 0;       // WAL frames appended since the store was opened
std::uint64_t frames_last = 0;  // the WAL's size in frames after the last commit

// Counts the frames each commit appends; a WAL shorter than before was restarted after a
// checkpoint, and all its frames are new.
auto count_frames(void*, sqlite3* db, const char* name, int pages) -> int {
    const auto n = static_cast<std::uint64_t>(pages);
    frames += n >= frames_last ? n - frames_last : n;
    frames_last = n;
    if (pages >= 1000) sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    return SQLITE_OK;
}

void open_store(const benchmark::State& state) {
    const std::string path = "sqlite_bus.db";
    for (const auto* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    sqlite::options o;
    o.durability = state.range(0) == 0 ? sqlite::durability::full : sqlite::durability::normal;
    store = sqlite::store::open(path, o).value();
    bus.emplace(*store, retry_policy{}, [](std::string_view) {});
    const int skus = state.range(1) == 0 ? max_threads : 1;
    for (int t = 0; t < skus; ++t) {
        // Ten batches per SKU, big enough never to run out.
        for (int b = 0; b < 10; ++b) {
            (void)bus->handle(commands::create_batch{batch_ref{fmt::format("b{}-{}", t, b)}, sku{fmt::format("S{}", t)},
                                                     quantity{max_quantity}});
        }
    }
    store->with_writer([](sqlite3* db) { sqlite3_wal_hook(db, count_frames, nullptr); });
    transactions_before = store->transactions();
    frames = 0;
}

void close_store(const benchmark::State&) {
    bus.reset();
    store.reset();
}

void allocate(benchmark::State& state) {
    const bool hot = state.range(1) != 0;
    const sku code{fmt::format("S{}", hot ? 0 : state.thread_index())};
    std::int64_t n = 0;
    std::int64_t failed = 0;
    for (auto _ : state) {
        const commands::allocate cmd{order_id{fmt::format("o{}-{}", state.thread_index(), n++)}, code, quantity{1}};
        if (!bus->handle(cmd)) ++failed;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    state.counters["failed"] = benchmark::Counter(static_cast<double>(failed), benchmark::Counter::kAvgThreads);
    if (state.thread_index() == 0) {
        state.counters["pages"] = benchmark::Counter(static_cast<double>(frames) /
                                                     static_cast<double>(state.iterations() * state.threads()));
        state.counters["per_txn"] = benchmark::Counter(
            static_cast<double>(state.iterations()) * state.threads() /
            static_cast<double>(std::max<std::uint64_t>(1, store->transactions() - transactions_before)));
    }
}

}  // namespace

BENCHMARK(allocate)
    ->Setup(open_store)
    ->Teardown(close_store)
    ->ArgNames({"normal", "hot"})
    ->ArgsProduct({{0, 1}, {0, 1}})
    ->Threads(1)
    ->Threads(16)
    ->Threads(64)
    ->UseRealTime()
    ->MinTime(2.0);

BENCHMARK_MAIN();
