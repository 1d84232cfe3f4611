// allocation benchmark — domain only: allocations per second of one product with 1 to 100,000
// batches, with every batch open or with the first 99% (in preference order) already full.
// SPDX-License-Identifier: MIT
// Each iteration allocates one new order line of one unit and drops the events it raised (a
// unit of work takes them on every command). Every 65,536 lines the product is reset from a
// copy made in setup, with the timer paused, so that the number of open lines stays bounded;
// that copy has had a window of lines come and go, so its line table is sized (steady state).
#include <allocation/domain/product.hpp>
#include <allocation/strategies/best_fit.hpp>
#include <allocation/strategies/fefo.hpp>
#include <allocation/strategies/fifo.hpp>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cstdint>
#include <vector>

namespace {

using namespace allocation;
constexpr std::size_t window = 1U << 16;

auto day(int d) -> date { return date{std::chrono::sys_days{std::chrono::year{2030} / 1 / 1} + std::chrono::days{d}}; }

// A product with `n` batches; the first `full` of them in preference order have no stock left
// (allocated by real lines), the others have more than a window can take.
template <class Strategy>
auto make_product(std::int64_t n, std::int64_t full) -> basic_product<Strategy> {
    basic_product<Strategy> p{sku{"SKU-000001"}};
    for (std::int64_t i = 0; i < n; ++i) {
        // Expiry and ETA grow with i, so that every strategy prefers batches in the order added.
        const auto qty = i < full ? quantity{10} : quantity{max_quantity};
        (void)p.add_batch(batch_ref{fmt::format("batch-{:06}", i)}, qty, day(static_cast<int>(i)),
                          day(static_cast<int>(i) + 3650));
    }
    for (std::int64_t i = 0; i < full; ++i) {
        (void)p.allocate({order_id{fmt::format("fill-{:06}", i)}, p.sku(), quantity{10}});
    }
    // Steady state: a window of lines allocated and deallocated again (newest first), so the
    // line table is already sized for a window, as in a product whose lines come and go.
    for (std::size_t i = 0; i < window; ++i) (void)p.allocate({order_id{fmt::format("warm-{:07}", i)}, p.sku(), quantity{1}});
    for (std::size_t i = window; i-- > 0;) (void)p.deallocate(order_id{fmt::format("warm-{:07}", i)});
    p.clear_events();
    return p;
}

auto make_lines(const sku& code) -> std::vector<order_line> {
    std::vector<order_line> lines;
    lines.reserve(window);
    for (std::size_t i = 0; i < window; ++i) lines.push_back({order_id{fmt::format("order-{:07}", i)}, code, quantity{1}});
    return lines;
}

template <class Strategy, bool MostlyFull>
void bm_allocate(benchmark::State& state) {
    const auto n = state.range(0);
    const auto full = MostlyFull ? n * 99 / 100 : 0;
    const auto base = make_product<Strategy>(n, full);
    const auto lines = make_lines(base.sku());
    auto p = base;
    std::size_t k = 0;
    for (auto _ : state) {
        if (k == window) {
            state.PauseTiming();
            p = base;
            k = 0;
            state.ResumeTiming();
        }
        auto r = p.allocate(lines[k++]);
        benchmark::DoNotOptimize(r);
        p.clear_events();
    }
    if (p.available() < quantity{}) state.SkipWithError("oversold");
    state.SetItemsProcessed(state.iterations());
    state.SetComplexityN(n);
    state.counters["full_batches"] = static_cast<double>(full);
}

void batch_counts(benchmark::internal::Benchmark* b) {
    for (std::int64_t n = 1; n <= 100'000; n *= 10) b->Arg(n);
}

}  // namespace

BENCHMARK(bm_allocate<warehouse_first, false>)->Name("allocate/open")->Apply(batch_counts)->Complexity(benchmark::oLogN);
BENCHMARK(bm_allocate<warehouse_first, true>)->Name("allocate/99pct_full")->Apply(batch_counts)->Complexity(benchmark::oLogN);
BENCHMARK(bm_allocate<fifo, true>)->Name("allocate_fifo/99pct_full")->Arg(10)->Arg(100'000);
BENCHMARK(bm_allocate<fefo, true>)->Name("allocate_fefo/99pct_full")->Arg(10)->Arg(100'000);
BENCHMARK(bm_allocate<best_fit, true>)->Name("allocate_best_fit/99pct_full")->Arg(10)->Arg(100'000);
