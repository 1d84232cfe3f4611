// allocation benchmark — Allocate commands per second from 1 and 2 threads through the message
// bus and the thread-safe in-memory store: each thread on its own SKU, or every thread on one
// hot SKU. After the timed loop, outside the timing, the store is checked for oversell: no
// batch allocated beyond its purchase, allocations equal to the successful commands. A
// violation aborts the run.
// SPDX-License-Identifier: MIT
#include <allocation/allocation.hpp>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

namespace {

using namespace allocation;
constexpr std::int64_t per_thread = 1 << 18;  // commands per thread (fixed: no reset mid-run)

struct shared {
    memory::store store;
    basic_message_bus<memory::store> bus{bootstrap(store)};
    std::atomic<std::int64_t> allocated{0};
    std::int64_t purchased = 0;
    std::vector<sku> skus;
};
std::unique_ptr<shared> world;  // built by thread 0 before the loop; the loop start is a barrier

// Distinct SKUs: each thread's SKU has stock for all its lines. Hot SKU: one SKU has stock for
// three quarters of every thread's lines together, so the threads race for the last units.
template <bool Hot>
void bm_threads(benchmark::State& state) {
    const auto threads = state.threads();
    if (state.thread_index() == 0) {
        world = std::make_unique<shared>();
        const auto skus = Hot ? 1 : threads;
        const auto per_sku = Hot ? per_thread * threads * 3 / 4 : per_thread;
        for (int s = 0; s < skus; ++s) {
            world->skus.push_back(sku{fmt::format("SKU-{:06}", s)});
            for (int b = 0; b < 10; ++b) {
                const auto qty = per_sku / 10 + (b < per_sku % 10 ? 1 : 0);
                (void)world->bus.handle(commands::create_batch{.ref = batch_ref{fmt::format("s{}-b{}", s, b)},
                                                               .sku = world->skus.back(),
                                                               .qty = quantity{qty}});
                world->purchased += qty;
            }
        }
    }
    std::vector<commands::allocate> cmds;
    cmds.reserve(per_thread);
    const auto my_sku = sku{fmt::format("SKU-{:06}", Hot ? 0 : state.thread_index())};
    for (std::int64_t i = 0; i < per_thread; ++i) {
        cmds.push_back({.order = order_id{fmt::format("t{}-{:07}", state.thread_index(), i)}, .sku = my_sku,
                        .qty = quantity{1}});
    }
    std::int64_t ok = 0;
    std::int64_t out_of_stock = 0;
    std::size_t k = 0;
    for (auto _ : state) {
        const auto r = world->bus.handle(cmds[k++]);
        if (r) {
            ++ok;
        } else if (r.error() == errc::out_of_stock) {
            ++out_of_stock;
        } else {
            state.SkipWithError(fmt::format("Allocate failed: {}", r.error().message()).c_str());
        }
    }
    world->allocated += ok;
    state.SetItemsProcessed(state.iterations());
    state.counters["out_of_stock"] = benchmark::Counter(static_cast<double>(out_of_stock), benchmark::Counter::kAvgThreads);
    // The loop's end is a barrier, but the other threads' counts arrive after it: wait for them.
    static std::atomic<int> done{0};
    if (++done == threads) {
        done = 0;
        std::int64_t sold = 0;
        for (const auto& code : world->skus) {
            const bool read = world->store.read(code, [&](const product& p) {
                for (const auto& b : p.batches()) {
                    if (b.allocated() > b.purchased() || b.available() < quantity{}) {
                        std::fprintf(stderr, "OVERSOLD: batch %s allocated %lld of %lld\n", b.ref().value.c_str(),
                                     static_cast<long long>(b.allocated().value),
                                     static_cast<long long>(b.purchased().value));
                        std::abort();
                    }
                    sold += b.allocated().value;
                }
            });
            if (!read) {
                std::fprintf(stderr, "OVERSELL CHECK: cannot read %s\n", code.value.c_str());
                std::abort();
            }
        }
        if (sold != world->allocated.load() || sold > world->purchased) {
            std::fprintf(stderr, "OVERSOLD: %lld units allocated, %lld commands succeeded, %lld purchased\n",
                         static_cast<long long>(sold), static_cast<long long>(world->allocated.load()),
                         static_cast<long long>(world->purchased));
            std::abort();
        }
        std::fprintf(stderr, "no oversell: %lld units allocated of %lld purchased, %d thread(s), %s\n",
                     static_cast<long long>(sold), static_cast<long long>(world->purchased), threads,
                     Hot ? "hot SKU" : "distinct SKUs");
    }
}

}  // namespace

BENCHMARK(bm_threads<false>)->Name("distinct_skus")->Iterations(per_thread)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(bm_threads<true>)->Name("hot_sku")->Iterations(per_thread)->Threads(1)->Threads(2)->UseRealTime();
