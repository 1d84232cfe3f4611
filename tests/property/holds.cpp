// allocation — properties of holds and backorders over random sequences of allocate, hold,
// confirm, release, expire, change quantity, deallocate, backorder and cancel, with a test
// clock: what is allocated and held never exceeds what was purchased, no hold blocks anything
// after its deadline, a confirmation never allocates more than was held nor elsewhere,
// backorders are filled in priority then arrival order and never past what is available, the
// events match the changes, and a rollback returns to the state before.
// SPDX-License-Identifier: MIT
#include <allocation/domain/product.hpp>

#include <doctest/doctest.h>
#include <rapidcheck.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include <fmt/format.h>

using namespace allocation;

namespace {

enum class act { add_batch, allocate, hold, confirm, release, expire, change_qty, deallocate, backorder, cancel, rolled_back };
constexpr int act_count = 11;

struct step {
    act what;
    int order;     // o0..o7
    int batch;     // b0..b3
    int qty;       // 0..12
    int priority;  // 0..2
    int dt;        // seconds the clock moves first, 0..40
};

auto gen_steps() {
    using rc::gen::inRange;
    return rc::gen::container<std::vector<step>>(rc::gen::map(
        rc::gen::tuple(inRange(0, act_count), inRange(0, 8), inRange(0, 4), inRange(0, 13), inRange(0, 3), inRange(0, 41)),
        [](const std::tuple<int, int, int, int, int, int>& t) {
            return step{static_cast<act>(std::get<0>(t)), std::get<1>(t), std::get<2>(t),
                        std::get<3>(t), std::get<4>(t), std::get<5>(t)};
        }));
}

auto order_of(int i) -> order_id { return order_id{fmt::format("o{}", i)}; }
auto ref_of(int i) -> batch_ref { return batch_ref{fmt::format("b{}", i)}; }

// What one batch has, counted from the product's records.
struct counted {
    std::int64_t allocated = 0;
    std::int64_t held = 0;
};

// Every batch: allocated + held (live holds only) <= purchased, and the batch's own counts agree
// with the records; every hold is lapsed exactly when its deadline is at or before now().
void check_stock(const product& p) {
    std::vector<counted> c(p.batches().size());
    for (const auto& [order, line] : p.lines()) {
        std::int64_t sum = 0;
        for (const auto& part : line.parts) {
            c[part.batch].allocated += part.qty.value;
            sum += part.qty.value;
        }
        RC_ASSERT(sum == line.qty.value);
    }
    for (const auto& [order, h] : p.holds()) {
        RC_ASSERT(h.lapsed == (h.expires_at <= p.now()));
        if (!h.lapsed) c[h.batch].held += h.qty.value;
    }
    std::int64_t available = 0;
    for (std::size_t i = 0; i < c.size(); ++i) {
        const auto& b = p.batches()[i];
        RC_ASSERT(b.allocated().value == c[i].allocated);
        RC_ASSERT(b.held().value == c[i].held);
        RC_ASSERT(c[i].allocated + c[i].held <= b.purchased().value);
        available += b.available().value;
    }
    RC_ASSERT(p.available().value == available);
    // Backorders wait only while no stock is available (warehouse_first: every batch eligible).
    if (p.backorder_count() > 0) RC_ASSERT(available == 0);
}

template <class Event>
auto events_of(const product& p, std::size_t from) -> std::vector<Event> {
    std::vector<Event> out;
    for (std::size_t i = from; i < p.events().size(); ++i) {
        if (const auto* e = std::get_if<Event>(&p.events()[i])) out.push_back(*e);
    }
    return out;
}

auto total_allocated(const product& p) -> std::int64_t {
    std::int64_t n = 0;
    for (const auto& b : p.batches()) n += b.allocated().value;
    return n;
}
auto total_backordered(const product& p) -> std::int64_t {
    std::int64_t n = 0;
    for (const auto& b : p.backorders()) n += b.qty.value;
    return n;
}

// What can be compared after a rollback: batches with their allocations, holds and backorders.
auto snapshot(const product& p) {
    std::vector<std::tuple<std::string, std::int64_t, std::int64_t, std::int64_t>> batches;
    for (const auto& b : p.batches()) batches.emplace_back(b.ref().value, b.purchased().value, b.allocated().value, b.held().value);
    std::map<std::string, std::int64_t> lines;
    for (const auto& [order, line] : p.lines()) lines[order.value] = line.qty.value;
    return std::tuple{batches, lines, p.facts(), p.version()};
}

void run(product& p, const step& s, timestamp now) {
    const auto order = order_of(s.order);
    const order_line line{order, sku{"S"}, quantity{s.qty}};
    const auto before_allocated = total_allocated(p);
    const auto before_backordered = total_backordered(p);
    const auto queue_before = p.backorders();
    const auto* held_before = p.find_hold(order);
    const std::optional<product::hold_record> hold_before =
        held_before != nullptr ? std::optional{*held_before} : std::nullopt;
    const auto first_event = p.events().size();

    switch (s.what) {
        case act::add_batch: (void)p.add_batch(ref_of(s.batch), quantity{s.qty}); p.advance(now); break;
        case act::allocate: {
            const auto r = p.allocate(line, now);
            if (!r && r.error() == errc::out_of_stock) {
                // Nothing blocks it but stock truly taken: no batch has that much unallocated
                // and unheld by live holds.
                for (const auto& b : p.batches()) RC_ASSERT(b.available().value < s.qty);
            }
            break;
        }
        case act::hold: {
            const auto r = p.hold(line, now + std::chrono::seconds{1 + s.priority * 15}, now);
            if (!r && r.error() == errc::out_of_stock) {
                for (const auto& b : p.batches()) RC_ASSERT(b.available().value < s.qty);
            }
            break;
        }
        case act::confirm: {
            const std::optional<quantity> q = s.qty == 0 ? std::nullopt : std::optional{quantity{s.qty}};
            const auto r = p.confirm_hold(order, q, now);
            if (r && hold_before && hold_before->expires_at > now) {
                RC_ASSERT(r.value().qty <= hold_before->qty);
                RC_ASSERT(r.value().batch == p.batches()[hold_before->batch].ref());
                RC_ASSERT(p.find_hold(order) == nullptr);
            }
            if (hold_before && hold_before->expires_at <= now) RC_ASSERT(!r);
            break;
        }
        case act::release: (void)p.release_hold(order, now); break;
        case act::expire: {
            std::size_t due = 0;
            for (const auto& [o, h] : p.holds()) due += h.expires_at <= now ? 1 : 0;
            RC_ASSERT(p.expire_holds(now) == due);
            RC_ASSERT(events_of<events::hold_expired>(p, first_event).size() == due);
            break;
        }
        case act::change_qty: (void)p.change_batch_quantity(ref_of(s.batch), quantity{s.qty}, now); break;
        case act::deallocate: p.advance(now); (void)p.deallocate(order); break;
        case act::backorder:
            p.advance(now);
            (void)p.allocate_available(line, order_policy::backorder, s.priority);
            break;
        case act::cancel: p.advance(now); (void)p.cancel_backorder(order); break;
        case act::rolled_back: {
            p.advance(now);
            const auto before = snapshot(p);
            p.checkpoint();
            (void)p.hold(line, now + std::chrono::seconds{5}, now);
            (void)p.allocate_available({order_of((s.order + 1) % 8), sku{"S"}, quantity{s.qty}}, order_policy::backorder,
                                       s.priority);
            (void)p.change_batch_quantity(ref_of(s.batch), quantity{s.qty}, now);
            (void)p.confirm_hold(order_of((s.order + 2) % 8), std::nullopt, now);
            (void)p.add_batch(ref_of(s.batch + 4), quantity{s.qty});
            p.rollback();
            RC_ASSERT(snapshot(p) == before);
            return;
        }
    }
    check_stock(p);

    // The events match the changes: Allocated adds, Deallocated takes away whole lines.
    std::int64_t allocated_by_events = 0;
    for (const auto& e : events_of<events::allocated>(p, first_event)) allocated_by_events += e.qty.value;
    for (const auto& e : events_of<events::deallocated>(p, first_event)) allocated_by_events -= e.qty.value;
    RC_ASSERT(total_allocated(p) - before_allocated == allocated_by_events);
    // Backordered adds to the queue; fills and cancellations take from it.
    std::int64_t queued_by_events = 0;
    for (const auto& e : events_of<events::backordered>(p, first_event)) queued_by_events += e.qty.value;
    for (const auto& e : events_of<events::backorder_cancelled>(p, first_event)) queued_by_events -= e.qty.value;
    std::map<std::string, std::int64_t> filled;
    for (const auto& b : queue_before) {
        const auto now_queued = p.find_backorder(b.order);
        const auto left = now_queued ? now_queued->qty.value : 0;
        const bool cancelled = !events_of<events::backorder_cancelled>(p, first_event).empty() &&
                               events_of<events::backorder_cancelled>(p, first_event).front().order == b.order;
        if (!cancelled) filled[b.order.value] = b.qty.value - left;
    }
    std::int64_t filled_total = 0;
    for (const auto& [o, n] : filled) {
        RC_ASSERT(n >= 0);
        filled_total += n;
    }
    RC_ASSERT(total_backordered(p) - before_backordered == queued_by_events - filled_total);
    // Fill order: a backorder got something only when every one before it in fill order was
    // filled whole (or cancelled).
    bool short_seen = false;
    for (const auto& b : queue_before) {
        if (!filled.contains(b.order.value)) continue;
        const auto got = filled[b.order.value];
        if (short_seen) RC_ASSERT(got == 0);
        if (got < b.qty.value) short_seen = true;
    }
    // Every hold placed is there with its batch; every hold released or expired is gone, unless
    // placed again after.
    for (const auto& e : events_of<events::hold_placed>(p, first_event)) {
        const auto* h = p.find_hold(e.order);
        RC_ASSERT(h != nullptr);
        RC_ASSERT(p.batches()[h->batch].ref() == e.batch);
        RC_ASSERT(h->qty == e.qty);
    }
    if (events_of<events::hold_placed>(p, first_event).empty()) {
        for (const auto& e : events_of<events::hold_released>(p, first_event)) RC_ASSERT(p.find_hold(e.order) == nullptr);
        for (const auto& e : events_of<events::hold_expired>(p, first_event)) RC_ASSERT(p.find_hold(e.order) == nullptr);
    }
}

}  // namespace

TEST_SUITE("property") {
TEST_CASE("holds and backorders keep every invariant over any sequence of commands and clock moves") {
    CHECK(rc::check([] {
        product p{sku{"S"}};
        timestamp now{std::chrono::seconds{1000}};
        for (const auto& s : *gen_steps()) {
            now += std::chrono::seconds{s.dt};
            run(p, s, now);
        }
    }));
}
}
