// allocation benchmarks — Allocate commands per second through the message bus on the
// PostgreSQL store, every command acknowledged only once committed.
// SPDX-License-Identifier: MIT
//
// The server: ALLOCATION_BENCH_POSTGRES_URL, or a throwaway cluster started (and stopped at
// exit) with scripts/postgres-test-server.sh and PostgreSQL's durable defaults (fsync on,
// synchronous_commit on: a commit is acknowledged once its WAL is flushed to disk).
// Arguments:
//   sync    1: synchronous_commit=on (durable); 0: off for the benchmark's sessions (a crash of
//           the server can lose the last acknowledged commits, never consistency);
//   hot     0: each thread on products of its own (1,024 each, never contended);
//           1: all threads on the same product, a new one every 64 commands (contended: the
//           row lock makes them take turns).
//   warm    0: a spread thread goes round its 1,024 products, so most commands find their
//           product for the first time (the grouped store loads it);
//           1: a spread thread goes round 8 products of its own, cached after the first round.
//   grouped 0: postgres::store, each command its own transaction of two round trips (lock + load,
//           write + COMMIT) on its own pooled connection (concurrent commits share WAL flushes:
//           PostgreSQL's group commit);
//           1: postgres::grouped_store, products cached and the commits queued meanwhile written
//           together, one transaction of two round trips per group (per_txn: commands per
//           transaction).
// ALLOCATION_BENCH_GROUPS: the grouped store's options::groups_in_flight (default: its default).
// Threads: 1, 2, 8 and 32. Every product starts with one batch big enough never to run out,
// so products stay small (lines per product are bounded by the spread above).
//   cmake --workflow --preset release-bench && build/release-bench/benchmarks/postgres_bus
#include <algorithm>   // max
#include <atomic>      // atomic
#include <cstdint>     // int64_t, uint64_t
#include <cstdio>      // popen, pclose, fgets
#include <cstdlib>     // getenv, atexit, system
#include <filesystem>  // path
#include <memory>      // unique_ptr
#include <optional>    // optional
#include <stdexcept>   // runtime_error
#include <string>      // string

#include <unistd.h>  // getpid

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <pqxx/pqxx>

#include <allocation/adapters/postgres.hpp>
#include <allocation/allocation.hpp>

namespace {

using namespace allocation;
using bus_type = basic_message_bus<postgres::store>;
using grouped_bus_type = basic_message_bus<postgres::grouped_store>;

constexpr int products_per_thread = 1'024;
constexpr int max_threads = 32;
constexpr int hot_run = 64;
constexpr int warm_products = 8;

auto script() -> std::string {
    return (std::filesystem::path(ALLOCATION_SOURCE_DIR) / "scripts" / "postgres-test-server.sh").string();
}
auto state_dir() -> std::string { return fmt::format("/tmp/allocation-postgres-bench-{}", getpid()); }

void stop_server() {
    (void)std::system(fmt::format("'{}' stop '{}'", script(), state_dir()).c_str());
}

auto server_url() -> const std::string& {
    static const std::string url = [] {
        if (const char* env = std::getenv("ALLOCATION_BENCH_POSTGRES_URL"); env != nullptr && *env != '\0') {
            return std::string(env);
        }
        const auto command = fmt::format("POSTGRES_TEST_DURABLE=1 '{}' start '{}'", script(), state_dir());
        FILE* out = popen(command.c_str(), "r");
        if (out == nullptr) throw std::runtime_error("cannot run " + command);
        std::string text;
        char buffer[512];
        while (std::fgets(buffer, sizeof buffer, out) != nullptr) text += buffer;
        if (pclose(out) != 0) throw std::runtime_error("could not start PostgreSQL: " + command);
        while (!text.empty() && text.back() == '\n') text.pop_back();
        std::atexit(stop_server);
        return text;
    }();
    return url;
}

std::unique_ptr<postgres::store> store;
std::optional<bus_type> bus;
std::unique_ptr<postgres::grouped_store> grouped;
std::optional<grouped_bus_type> grouped_bus;
std::uint64_t transactions_before = 0;
std::atomic<std::int64_t> hot_counter{0};
int run_number = 0;
std::string schema;  // of the current run

// A fresh schema with max_threads * products_per_thread products of one large batch each,
// written in bulk.
void open_store(const benchmark::State& state) {
    schema = fmt::format("bench_{}_{}", getpid(), ++run_number);  // processes may share a server
    {
        pqxx::connection c(server_url());
        pqxx::nontransaction tx(c);
        tx.exec(fmt::format("DROP SCHEMA IF EXISTS {0} CASCADE; CREATE SCHEMA {0}", schema));
    }
    auto url = fmt::format("{}{}options=-csearch_path%3D{}{}", server_url(),
                           server_url().find('?') == std::string::npos ? '?' : '&', schema,
                           state.range(0) == 0 ? "%20-csynchronous_commit%3Doff" : "");
    const bool group = state.range(2) == 1;
    if (group) {
        postgres::options opts{.max_connections = max_threads + 2,
                               .log = [](std::string_view line) { fmt::print(stderr, "postgres: {}\n", line); }};
        if (const char* env = std::getenv("ALLOCATION_BENCH_GROUPS"); env != nullptr && *env != '\0') {
            opts.groups_in_flight = std::stoul(env);
        }
        grouped = postgres::grouped_store::open(url, std::move(opts)).value();
    } else {
        store = postgres::store::open(url, {.max_connections = max_threads + 2}).value();
    }
    {
        pqxx::connection c(url);
        pqxx::work tx(c);
        const auto n = max_threads * products_per_thread;
        tx.exec(fmt::format("INSERT INTO products (sku, version) SELECT 'S' || i, 1 FROM generate_series(0, {}) i", n - 1));
        tx.exec(fmt::format("INSERT INTO batches (ref, sku, position, purchased) "
                            "SELECT 'B' || i, 'S' || i, 0, {} FROM generate_series(0, {}) i",
                            max_quantity, n - 1));
        tx.exec("ANALYZE products; ANALYZE batches");
        tx.commit();
    }
    const auto log = [](std::string_view line) { fmt::print(stderr, "{}\n", line); };
    if (group) {
        grouped_bus.emplace(*grouped, retry_policy{.attempts = 20}, log);
        transactions_before = grouped->transactions();
    } else {
        bus.emplace(*store, retry_policy{.attempts = 20}, log);
        transactions_before = store->transactions();
    }
    hot_counter = 0;
}

// Drops the run's schema, so that a server shared by many runs does not grow.
void close_store(const benchmark::State&) {
    bus.reset();
    store.reset();
    grouped_bus.reset();
    grouped.reset();
    pqxx::connection c(server_url());
    pqxx::nontransaction tx(c);
    tx.exec(fmt::format("DROP SCHEMA IF EXISTS {} CASCADE", schema));
}

void allocate(benchmark::State& state) {
    const bool hot = state.range(1) == 1;
    const bool warm = state.range(3) == 1;
    const auto t = state.thread_index();
    std::int64_t n = 0;
    std::int64_t failed = 0;
    for (auto _ : state) {
        std::int64_t product = 0;
        if (hot) {
            product = (hot_counter++ / hot_run) % (max_threads * products_per_thread);
        } else {
            product = t * products_per_thread + n % (warm ? warm_products : products_per_thread);
        }
        const commands::allocate cmd{order_id{fmt::format("o{}-{}", t, n++)}, sku{fmt::format("S{}", product)},
                                     quantity{1}};
        const bool ok = grouped_bus ? static_cast<bool>(grouped_bus->handle(cmd)) : static_cast<bool>(bus->handle(cmd));
        if (!ok) ++failed;
    }
    state.SetItemsProcessed(state.iterations());
    if (t == 0) {
        const auto now = grouped ? grouped->transactions() : store->transactions();
        // Commands of every thread per transaction: thread 0's iterations times the threads.
        state.counters["per_txn"] = static_cast<double>(state.iterations()) * state.threads() /
                                    static_cast<double>(std::max<std::uint64_t>(1, now - transactions_before));
    }
    state.counters["failed"] = benchmark::Counter(static_cast<double>(failed), benchmark::Counter::kAvgThreads);
}

}  // namespace

BENCHMARK(allocate)
    ->Setup(open_store)
    ->Teardown(close_store)
    ->ArgNames({"sync", "hot", "grouped", "warm"})
    ->Args({1, 0, 0, 0})
    ->Args({1, 0, 1, 0})
    ->Args({1, 0, 0, 1})
    ->Args({1, 0, 1, 1})
    ->Args({0, 0, 0, 1})
    ->Args({0, 0, 1, 1})
    ->Args({1, 1, 0, 0})
    ->Args({1, 1, 1, 0})
    ->Threads(1)
    ->Threads(2)
    ->Threads(8)
    ->Threads(32)
    ->UseRealTime()
    ->MinTime(2.0);

BENCHMARK_MAIN();
