// allocation benchmark — the shipped strategies on one generated, seeded workload: many SKUs,
// batches on hand or arriving with ETAs, most with expiry dates (some already past), and
// orders of several lines, each order all or nothing. Two rows per strategy: lines allocated
// whole only (allocate), and split where no batch takes a line whole (allocate_split).
// Counters:
//   fill_rate          units allocated / units ordered
//   orders_filled      orders allocated whole (every line)
//   split_lines        lines spread over more than one batch
//   expired_units      units allocated from batches already past their expiry date
//   out_of_stock       orders refused (OutOfStock)
//   lines_per_second   order lines processed per second (the row's time is one whole workload)
// SPDX-License-Identifier: MIT
#include <allocation/domain/product.hpp>
#include <allocation/strategies/best_fit.hpp>
#include <allocation/strategies/fefo.hpp>
#include <allocation/strategies/fifo.hpp>
#include <allocation/strategies/warehouse_first.hpp>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>
#include <random>
#include <vector>

namespace {

using namespace allocation;
using namespace std::chrono;

constexpr std::uint32_t seed = 20261126;
constexpr int sku_count = 500;
constexpr int order_count = 5'000;
const date today = date{year{2030} / March / 1};

struct batch_spec {
    batch_ref ref;
    quantity qty;
    std::optional<date> eta;
    std::optional<date> expires;
};
struct sku_spec {
    sku code;
    std::vector<batch_spec> batches;
};
struct order_spec {
    order_id order;
    std::vector<order_line> lines;
};
struct workload {
    std::vector<sku_spec> skus;
    std::vector<order_spec> orders;
    std::int64_t lines = 0;
    std::int64_t units = 0;
};

auto offset(int days) -> date { return date{sys_days{today} + std::chrono::days{days}}; }

auto generate() -> workload {
    std::mt19937_64 rng(seed);
    auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    workload w;
    for (int s = 0; s < sku_count; ++s) {
        sku_spec spec{sku{fmt::format("SKU-{:04}", s)}, {}};
        const int batches = uniform(2, 12);
        for (int b = 0; b < batches; ++b) {
            std::optional<date> eta;
            if (uniform(0, 2) != 0) eta = offset(uniform(1, 60));  // two thirds in shipment
            std::optional<date> expires;
            if (uniform(0, 4) != 0) expires = offset(uniform(-20, 120));  // some already past
            spec.batches.push_back({batch_ref{fmt::format("{}-B{:02}", spec.code.value, b)},
                                    quantity{uniform(5, 120)}, eta, expires});
        }
        w.skus.push_back(std::move(spec));
    }
    for (int o = 0; o < order_count; ++o) {
        order_spec spec{order_id{fmt::format("ORD-{:06}", o)}, {}};
        const int lines = uniform(1, 5);
        for (int l = 0; l < lines; ++l) {
            // Popular SKUs (a skewed pick), distinct within an order.
            const int s = static_cast<int>(std::pow(uniform(0, 999) / 1000.0, 2.0) * sku_count);
            const auto code = sku{fmt::format("SKU-{:04}", s)};
            bool seen = false;
            for (const auto& x : spec.lines) seen = seen || x.sku == code;
            if (seen) continue;
            const auto qty = quantity{uniform(0, 9) == 0 ? uniform(40, 150) : uniform(1, 12)};
            spec.lines.push_back({spec.order, code, qty});
            ++w.lines;
            w.units += qty.value;
        }
        w.orders.push_back(std::move(spec));
    }
    return w;
}

const workload& the_workload() {
    static const workload w = generate();
    return w;
}

template <class Strategy>
auto make_strategy() -> Strategy {
    if constexpr (std::is_same_v<Strategy, basic_fefo<manual_calendar>>) {
        return Strategy{manual_calendar{today}};
    } else {
        return Strategy{};
    }
}

template <class Strategy, bool Split>
void bm_compare(benchmark::State& state) {
    using product_type = basic_product<Strategy>;
    const auto& w = the_workload();
    std::int64_t allocated_units = 0, orders_filled = 0, split_lines = 0, expired_units = 0, refused = 0;
    for (auto _ : state) {
        state.PauseTiming();
        std::vector<product_type> products;
        products.reserve(w.skus.size());
        for (const auto& s : w.skus) {
            product_type p{s.code, {}, make_strategy<Strategy>()};
            for (const auto& b : s.batches) (void)p.add_batch(b.ref, b.qty, b.eta, b.expires);
            p.clear_events();
            products.push_back(std::move(p));
        }
        allocated_units = orders_filled = split_lines = expired_units = refused = 0;
        std::vector<product_type*> touched;
        state.ResumeTiming();

        for (const auto& order : w.orders) {
            touched.clear();
            bool ok = true;
            for (const auto& line : order.lines) {
                auto& p = products[static_cast<std::size_t>(std::stoi(line.sku.value.substr(4)))];
                p.checkpoint();
                touched.push_back(&p);
                const bool allocated = Split ? static_cast<bool>(p.allocate_split(line))
                                             : static_cast<bool>(p.allocate(line));
                if (!allocated) {
                    ok = false;
                    break;
                }
            }
            for (auto* p : touched) {
                if (ok) {
                    p->accept();
                } else {
                    p->rollback();
                }
                p->clear_events();
            }
            if (ok) {
                ++orders_filled;
            } else {
                ++refused;
            }
        }

        state.PauseTiming();
        for (const auto& p : products) {
            for (const auto& [order, rec] : p.lines()) {
                allocated_units += rec.qty.value;
                split_lines += rec.parts.size() > 1 ? 1 : 0;
                for (const auto& part : rec.parts) {
                    const auto& b = p.batches()[part.batch];
                    if (b.expires() && *b.expires() < today) expired_units += part.qty.value;
                }
            }
        }
        state.ResumeTiming();
    }
    state.counters["fill_rate"] = static_cast<double>(allocated_units) / static_cast<double>(w.units);
    state.counters["orders_filled"] = static_cast<double>(orders_filled);
    state.counters["split_lines"] = static_cast<double>(split_lines);
    state.counters["expired_units"] = static_cast<double>(expired_units);
    state.counters["out_of_stock"] = static_cast<double>(refused);
    state.counters["lines_per_second"] =
        benchmark::Counter(static_cast<double>(w.lines), benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

BENCHMARK(bm_compare<warehouse_first, false>)->Name("compare/warehouse_first/whole")->Unit(benchmark::kMillisecond);
BENCHMARK(bm_compare<warehouse_first, true>)->Name("compare/warehouse_first/split")->Unit(benchmark::kMillisecond);
BENCHMARK(bm_compare<fifo, false>)->Name("compare/fifo/whole")->Unit(benchmark::kMillisecond);
BENCHMARK(bm_compare<fifo, true>)->Name("compare/fifo/split")->Unit(benchmark::kMillisecond);
BENCHMARK(bm_compare<basic_fefo<manual_calendar>, false>)->Name("compare/fefo/whole")->Unit(benchmark::kMillisecond);
BENCHMARK(bm_compare<basic_fefo<manual_calendar>, true>)->Name("compare/fefo/split")->Unit(benchmark::kMillisecond);
BENCHMARK(bm_compare<best_fit, false>)->Name("compare/best_fit/whole")->Unit(benchmark::kMillisecond);
BENCHMARK(bm_compare<best_fit, true>)->Name("compare/best_fit/split")->Unit(benchmark::kMillisecond);
