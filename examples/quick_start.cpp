// allocation — quick start: the stories of the allocation service, played in memory.
// SPDX-License-Identifier: MIT
#include <allocation/allocation.hpp>

#include <chrono>   // sys_days, minutes
#include <cstdint>  // int64_t

#include <fmt/format.h>

using namespace allocation;

namespace {
auto eta(unsigned month, unsigned day) -> date {
    return date{std::chrono::year{2027}, std::chrono::month{month}, std::chrono::day{day}};
}
void show(const char* what, const result<batch_ref>& r) {
    if (r) {
        fmt::print("{}: allocated to {}\n", what, r.value());
    } else {
        fmt::print("{}: refused ({})\n", what, r.error().message());
    }
}
}  // namespace

int main() {
    memory::store store;                 // products, shared by threads
    memory::allocations_view allocations;  // read model: order -> (SKU, batch)
    memory::notifications purchasing;      // where low-stock notices go
    manual_clock clock{std::chrono::sys_days{std::chrono::year{2027} / 1 / 15} + std::chrono::hours{10}};  // holds' time
    auto bus = bootstrap(store, {}, with_clock(clock), std::ref(allocations), std::ref(purchasing));
    bus.set_default_replenishment({.reorder_point = quantity{2}, .max_level = quantity{20}, .multiple = quantity{5}});
    bus.on<events::allocated>([](const events::allocated& e) {
        fmt::print("  event: {} x{} of order {} -> {}\n", e.sku, e.qty, e.order, e.batch);
    });

    fmt::print("Purchasing adds batches: chairs in the warehouse and at sea, lamps in the warehouse.\n");
    (void)bus.handle(commands::create_batch{.ref = batch_ref{"chairs-in-stock"}, .sku = sku{"RED-CHAIR"}, .qty = quantity{12}});
    (void)bus.handle(commands::create_batch{
        .ref = batch_ref{"chairs-at-sea"}, .sku = sku{"RED-CHAIR"}, .qty = quantity{50}, .eta = eta(3, 1)});
    (void)bus.handle(commands::create_batch{.ref = batch_ref{"lamps"}, .sku = sku{"LAMP"}, .qty = quantity{4}});

    fmt::print("Order A wants 10 red chairs and 1 lamp.\n");
    const commands::allocate_order order_a{order_id{"A"}, {{sku{"RED-CHAIR"}, quantity{10}}, {sku{"LAMP"}, quantity{1}}}};
    if (const auto r = bus.handle(order_a)) {
        for (const auto& a : r.value()) fmt::print("order A: {} x{} from {}\n", a.sku, a.qty, a.batch);
    }

    fmt::print("The customer refreshes the page: order A is sent again.\n");
    if (const auto r = bus.handle(order_a)) fmt::print("order A: answered with its {} allocations, nothing new\n", r.value().size());

    fmt::print("Order B wants 5 lamps, more than exist.\n");
    show("order B", bus.handle(commands::allocate{order_id{"B"}, sku{"LAMP"}, quantity{5}}));

    fmt::print("Order C wants 2 lamps, leaving 1: purchasing is told to buy more.\n");
    show("order C", bus.handle(commands::allocate{order_id{"C"}, sku{"LAMP"}, quantity{2}}));
    for (const auto& m : purchasing.sent()) fmt::print("to {}: {}\n", m.destination, m.text);

    fmt::print("Order D takes the last 2 chairs in the warehouse.\n");
    show("order D", bus.handle(commands::allocate{order_id{"D"}, sku{"RED-CHAIR"}, quantity{2}}));

    fmt::print("Two chairs in the warehouse turn out broken: the batch shrinks to 10, order D moves.\n");
    (void)bus.handle(commands::change_batch_quantity{batch_ref{"chairs-in-stock"}, quantity{10}});
    for (const char* order : {"A", "D"}) {
        const auto rows = allocations.get(order_id{order}).value();
        for (const auto& row : rows) {
            fmt::print("order {} now: {} from {}\n", order, row.sku, row.batch);
        }
    }
    const auto chairs = [&] {
        store.read(sku{"RED-CHAIR"}, [](const product& p) {
            for (const auto* b : p.preference_order()) {
                fmt::print("{}: {} purchased, {} allocated, {} held, {} available\n", b->ref(), b->purchased(), b->allocated(),
                           b->held(), b->available());
            }
        });
    };
    chairs();

    bus.on<events::hold_expired>([](const events::hold_expired& e) {
        fmt::print("  event: the hold of order {} on {} x{} expired\n", e.order, e.sku, e.qty);
    });
    const auto hold = [&](const char* order, std::int64_t qty, std::chrono::minutes ttl) {
        const auto r = bus.handle(commands::hold{.order = order_id{order}, .lines = {{sku{"RED-CHAIR"}, quantity{qty}}}, .ttl = ttl});
        if (r) {
            fmt::print("checkout {}: {} chairs held in {} for {} minutes\n", order, qty, r.value().lines.front().batch, ttl.count());
        } else {
            fmt::print("checkout {}: refused ({})\n", order, r.error().message());
        }
    };
    fmt::print("Checkout E holds 3 chairs while its customer pays; checkout F holds the other 45 and is abandoned.\n");
    hold("E", 3, std::chrono::minutes{15});
    hold("F", 45, std::chrono::minutes{10});
    fmt::print("Order G wants a chair: every chair is allocated or held.\n");
    show("order G", bus.handle(commands::allocate{order_id{"G"}, sku{"RED-CHAIR"}, quantity{1}}));
    fmt::print("Eleven minutes pass: F's hold ends at its deadline, and the sweep tells.\n");
    clock.advance(std::chrono::minutes{11});
    show("order G", bus.handle(commands::allocate{order_id{"G"}, sku{"RED-CHAIR"}, quantity{1}}));
    (void)bus.handle(commands::expire_holds{});
    fmt::print("E's payment goes through: its hold becomes an allocation in the batch that held it.\n");
    const auto paid = bus.handle(commands::confirm_hold{.order = order_id{"E"}, .lines = {{sku{"RED-CHAIR"}, std::nullopt}}});
    if (paid) fmt::print("checkout E: {} chairs allocated from {}\n", paid.value().front().qty, paid.value().front().batch);
    chairs();
}
