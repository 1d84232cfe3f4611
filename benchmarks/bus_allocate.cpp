// allocation benchmark — Allocate commands per second through the message bus with the
// in-memory unit of work, and what event dispatch costs on top of the handler.
// SPDX-License-Identifier: MIT
// Three rows, one product of 10 open batches, one new order line of one unit per command:
//   handler_only      handlers::allocate on a memory unit of work (no bus, no dispatch);
//   bus/no_observers  bus.handle(): the same plus collecting the events and dispatching them to
//                     signals that have no observer;
//   bus/observers     the same with the in-memory allocations view, publisher and notifications
//                     connected by bootstrap (each Allocated event updates the view and is
//                     published).
// Their differences are the bus's own cost and the observers' cost. Every 65,536 commands the
// store, bus and observers are rebuilt with the timer paused, so the number of lines, view rows
// and published messages stays bounded.
#include <allocation/allocation.hpp>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <memory>
#include <optional>
#include <vector>

namespace {

using namespace allocation;
constexpr std::size_t window = 1U << 16;

enum class mode { handler_only, no_observers, observers };

struct world {
    memory::store store;
    memory::allocations_view view;
    memory::publisher publisher;
    memory::notifications notices;
    std::optional<basic_message_bus<memory::store>> bus;

    explicit world(mode m) {
        if (m == mode::observers) {
            bus.emplace(bootstrap(store, bootstrap_options{}, std::ref(view), std::ref(publisher), std::ref(notices)));
        } else {
            bus.emplace(bootstrap(store));
        }
        for (int i = 0; i < 10; ++i) {
            const auto r = bus->handle(commands::create_batch{.ref = batch_ref{fmt::format("batch-{:06}", i)},
                                                              .sku = sku{"SKU-000001"},
                                                              .qty = quantity{max_quantity}});
            if (!r) throw std::runtime_error("setup failed");
        }
    }
};

template <mode M>
void bm_bus(benchmark::State& state) {
    std::vector<commands::allocate> cmds;
    cmds.reserve(window);
    for (std::size_t i = 0; i < window; ++i) {
        cmds.push_back({.order = order_id{fmt::format("order-{:07}", i)}, .sku = sku{"SKU-000001"}, .qty = quantity{1}});
    }
    auto w = std::make_unique<world>(M);
    std::size_t k = 0;
    std::int64_t failed = 0;
    for (auto _ : state) {
        if (k == window) {
            state.PauseTiming();
            w = std::make_unique<world>(M);
            k = 0;
            state.ResumeTiming();
        }
        if constexpr (M == mode::handler_only) {
            auto uow = w->store.begin();
            auto r = handlers::allocate(cmds[k++], uow);
            auto events = uow.collect_new_events();
            benchmark::DoNotOptimize(events);
            failed += r ? 0 : 1;
        } else {
            auto r = w->bus->handle(cmds[k++]);
            failed += r ? 0 : 1;
        }
    }
    if (failed != 0) state.SkipWithError("an Allocate command failed");
    state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK(bm_bus<mode::handler_only>)->Name("handler_only");
BENCHMARK(bm_bus<mode::no_observers>)->Name("bus/no_observers");
BENCHMARK(bm_bus<mode::observers>)->Name("bus/observers");
