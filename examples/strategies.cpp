// allocation example — the same stock and the same orders under each shipped strategy.
// SPDX-License-Identifier: MIT
// Three batches of one SKU: milk on hand expiring soon, milk on hand already expired, and a
// shipment arriving. Each strategy allocates the same three lines; the last one is larger than
// any batch, so it is sent with allocate_split().
#include <allocation/domain/product.hpp>
#include <allocation/strategies/best_fit.hpp>
#include <allocation/strategies/fefo.hpp>
#include <allocation/strategies/fifo.hpp>
#include <allocation/strategies/warehouse_first.hpp>

#include <fmt/format.h>

#include <chrono>
#include <string_view>

using namespace allocation;
using namespace std::chrono;

namespace {

const date today = year{2030} / March / 10;

template <class Strategy>
void run(std::string_view name, Strategy strategy) {
    basic_product<Strategy> milk{sku{"MILK"}, {}, std::move(strategy)};
    (void)milk.add_batch(batch_ref{"old-stock"}, quantity{8}, std::nullopt, date{year{2030} / March / 9});
    (void)milk.add_batch(batch_ref{"shipment"}, quantity{25}, date{year{2030} / March / 12}, date{year{2030} / April / 30});
    (void)milk.add_batch(batch_ref{"fresh-stock"}, quantity{20}, std::nullopt, date{year{2030} / March / 15});

    fmt::print("{}:\n", name);
    for (const auto& [order, qty] : {std::pair{"order-1", 6}, std::pair{"order-2", 15}}) {
        const auto r = milk.allocate({order_id{order}, milk.sku(), quantity{qty}});
        if (r) {
            fmt::print("  {} x{:<3} -> {}\n", order, qty, r.value());
        } else {
            fmt::print("  {} x{:<3} -> {}\n", order, qty, r.error().message());
        }
    }
    const auto parts = milk.allocate_split({order_id{"order-3"}, milk.sku(), quantity{30}});
    if (parts) {
        fmt::print("  order-3 x30  ->");
        for (const auto& p : parts.value()) fmt::print(" {} x{}", p.batch, p.qty);
        fmt::print("\n");
    } else {
        fmt::print("  order-3 x30  -> {}\n", parts.error().message());
    }
    fmt::print("  left:");
    for (const auto& b : milk.batches()) fmt::print(" {} {}", b.ref(), b.available());
    fmt::print("\n");
}

}  // namespace

auto main() -> int {
    fmt::print("stock: old-stock 8 (on hand, expired {}), shipment 25 (ETA 2030-03-12, expires 2030-04-30),\n"
               "       fresh-stock 20 (on hand, expires 2030-03-15); today is {}\n\n",
               date{year{2030} / March / 9}, today);
    run("warehouse first (default)", warehouse_first{});
    run("FIFO (receipt order)", fifo{});
    run("FEFO (first expiry first out)", basic_fefo<manual_calendar>{manual_calendar{today}});
    run("best fit (smallest batch that takes the line)", best_fit{});
}
