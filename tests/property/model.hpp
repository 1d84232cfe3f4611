// allocation — the reference model of the property tests: random commands, a plain model of
// one product that says what each command must do, and the invariants checked on a product.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_TESTS_PROPERTY_MODEL_HPP
#define ALLOCATION_TESTS_PROPERTY_MODEL_HPP

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include <fmt/format.h>
#include <rapidcheck.h>

#include <allocation/allocation.hpp>

namespace allocation::testing {

using event = events::event;

// -- commands ------------------------------------------------------------------------------------

inline auto day(int d) -> date {
    return date{std::chrono::year{2026}, std::chrono::January, std::chrono::day{static_cast<unsigned>(d)}};
}

struct add_batch_op {
    std::string sku;
    std::string ref;
    std::int64_t qty;
    std::optional<int> eta;  ///< a day of January 2026; none: in the warehouse
};
struct allocate_op {
    std::string order;
    std::string sku;
    std::int64_t qty;
};
struct deallocate_op {
    std::string order;
    std::string sku;
    std::optional<std::int64_t> qty;
};
struct change_quantity_op {
    std::string ref;
    std::int64_t qty;
};
struct rule {
    std::optional<std::int64_t> reorder_point, max_level, multiple;
    friend auto operator==(const rule&, const rule&) -> bool = default;
    [[nodiscard]] auto get() const -> replenishment {
        const auto q = [](std::optional<std::int64_t> n) -> std::optional<quantity> {
            if (!n) return std::nullopt;
            return quantity{*n};
        };
        return {q(reorder_point), q(max_level), q(multiple)};
    }
};
struct set_rule_op {
    std::string sku;
    rule r{};
};
struct order_op {
    std::string order;
    std::vector<std::pair<std::string, std::int64_t>> lines;  ///< (SKU, qty); SKUs may repeat
};

/// One random command.
struct op {
    std::variant<add_batch_op, allocate_op, deallocate_op, change_quantity_op, set_rule_op, order_op> v;
};

inline auto to_string(const std::optional<std::int64_t>& n) -> std::string {
    return n ? std::to_string(*n) : std::string("-");
}

inline void showValue(const op& o, std::ostream& os) {
    std::visit(
        [&](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, add_batch_op>) {
                os << fmt::format("add_batch({}, {}, {}, eta {})", x.sku, x.ref, x.qty,
                                  x.eta ? std::to_string(*x.eta) : std::string("-"));
            } else if constexpr (std::is_same_v<T, allocate_op>) {
                os << fmt::format("allocate({}, {}, {})", x.order, x.sku, x.qty);
            } else if constexpr (std::is_same_v<T, deallocate_op>) {
                os << fmt::format("deallocate({}, {}, {})", x.order, x.sku, to_string(x.qty));
            } else if constexpr (std::is_same_v<T, change_quantity_op>) {
                os << fmt::format("change_batch_quantity({}, {})", x.ref, x.qty);
            } else if constexpr (std::is_same_v<T, set_rule_op>) {
                os << fmt::format("set_replenishment({}, point {}, max {}, multiple {})", x.sku,
                                  to_string(x.r.reorder_point), to_string(x.r.max_level), to_string(x.r.multiple));
            } else {
                os << "allocate_order(" << x.order;
                for (const auto& [s, q] : x.lines) os << fmt::format(", {}x{}", q, s);
                os << ")";
            }
        },
        o.v);
}

/// Random commands over small pools of names, so that they often meet: `skus` SKUs, 6 batch
/// references, 6 orders; quantities include invalid ones (below 1, or below 0 for batches).
/// `orders` false leaves out AllocateOrder (a command of the bus, not of a product).
inline auto gen_op(int skus, bool orders) -> rc::Gen<op> {
    using rc::gen::inRange;
    const auto gen_sku = rc::gen::map(inRange(0, skus), [](int i) { return fmt::format("S{}", i); });
    const auto gen_ref = rc::gen::map(inRange(0, 6), [](int i) { return fmt::format("b{}", i); });
    const auto gen_order = rc::gen::map(inRange(0, 6), [](int i) { return fmt::format("o{}", i); });
    const auto gen_eta = rc::gen::weightedOneOf<std::optional<int>>(
        {{2, rc::gen::just(std::optional<int>{})},
         {3, rc::gen::map(inRange(1, 4), [](int d) { return std::optional<int>{d}; })}});
    const auto opt_qty = [](std::int64_t lo, std::int64_t hi) {
        return rc::gen::weightedOneOf<std::optional<std::int64_t>>(
            {{1, rc::gen::just(std::optional<std::int64_t>{})},
             {2, rc::gen::map(inRange<std::int64_t>(lo, hi), [](std::int64_t n) { return std::optional{n}; })}});
    };
    auto add = rc::gen::map(rc::gen::tuple(gen_sku, gen_ref, inRange<std::int64_t>(-1, 30), gen_eta), [](auto t) {
        auto [s, r, q, e] = std::move(t);
        return op{add_batch_op{std::move(s), std::move(r), q, e}};
    });
    auto alloc = rc::gen::map(rc::gen::tuple(gen_order, gen_sku, inRange<std::int64_t>(0, 12)), [](auto t) {
        auto [o, s, q] = std::move(t);
        return op{allocate_op{std::move(o), std::move(s), q}};
    });
    auto dealloc = rc::gen::map(rc::gen::tuple(gen_order, gen_sku, opt_qty(0, 12)), [](auto t) {
        auto [o, s, q] = std::move(t);
        return op{deallocate_op{std::move(o), std::move(s), q}};
    });
    auto change = rc::gen::map(rc::gen::tuple(rc::gen::map(inRange(0, 7), [](int i) { return fmt::format("b{}", i); }),
                                              inRange<std::int64_t>(-1, 30)),
                               [](auto t) {
                                   auto [r, q] = std::move(t);
                                   return op{change_quantity_op{std::move(r), q}};
                               });
    auto set = rc::gen::map(rc::gen::tuple(gen_sku, opt_qty(0, 25), opt_qty(0, 40), opt_qty(1, 8)), [](auto t) {
        auto [s, p, m, k] = std::move(t);
        return op{set_rule_op{std::move(s), rule{p, m, k}}};
    });
    auto order = rc::gen::map(
        rc::gen::tuple(gen_order,
                       rc::gen::resize(3, rc::gen::nonEmpty(rc::gen::container<std::vector<std::pair<std::string, std::int64_t>>>(
                                              rc::gen::pair(gen_sku, inRange<std::int64_t>(1, 8)))))),
        [](auto t) {
            auto [o, l] = std::move(t);
            return op{order_op{std::move(o), std::move(l)}};
        });
    if (!orders) return rc::gen::weightedOneOf<op>({{3, add}, {6, alloc}, {2, dealloc}, {2, change}, {1, set}});
    return rc::gen::weightedOneOf<op>({{3, add}, {6, alloc}, {2, dealloc}, {2, change}, {1, set}, {3, order}});
}

// -- what a command answered ---------------------------------------------------------------------

/// The answer to a command: an error, or success with a batch reference (empty for commands
/// answering nothing) or the allocations of an order.
struct outcome {
    std::error_code error{};
    std::string ref{};
    std::vector<std::pair<std::string, std::string>> order{};  ///< (SKU, batch) of AllocateOrder
    friend auto operator==(const outcome&, const outcome&) -> bool = default;
};
inline void showValue(const outcome& o, std::ostream& os) {
    if (o.error) {
        os << "error " << o.error.message();
    } else {
        os << "ok " << o.ref;
        for (const auto& [s, b] : o.order) os << " " << s << "->" << b;
    }
}
inline auto to_outcome(const result<batch_ref>& r) -> outcome {
    if (!r) return {r.error()};
    return {{}, r.value().value};
}
inline auto to_outcome(const result<void>& r) -> outcome {
    if (!r) return {r.error()};
    return {};
}
inline auto to_outcome(const result<std::vector<line_allocation>>& r) -> outcome {
    if (!r) return {r.error()};
    outcome o;
    for (const auto& a : r.value()) o.order.emplace_back(a.sku.value, a.batch.value);
    return o;
}

// -- the observable state of a product --------------------------------------------------------------

struct batch_view {
    std::string ref;
    std::optional<date> eta;
    std::int64_t purchased;
    std::int64_t allocated;
    std::int64_t available;
    std::vector<std::pair<std::string, std::int64_t>> entries;  ///< oldest first
    friend auto operator==(const batch_view&, const batch_view&) -> bool = default;
};

/// Everything a user can see of a product, except its events and version.
struct product_view {
    std::string sku;
    std::vector<batch_view> batches;            ///< in the order they were added
    std::vector<std::string> preference;        ///< batch references in preference order
    std::map<std::string, std::int64_t> lines;  ///< order -> allocated quantity
    std::int64_t available;
    rule r{};
    friend auto operator==(const product_view&, const product_view&) -> bool = default;
};

inline auto observe(const product& p) -> product_view {
    product_view v{p.sku().value, {}, {}, {}, p.available().value, {}};
    for (const auto& b : p.batches()) {
        batch_view bv{b.ref().value, b.eta(), b.purchased().value, b.allocated().value, b.available().value, {}};
        for (const auto& e : b.allocations()) bv.entries.emplace_back(e.order.value, e.qty.value);
        v.batches.push_back(std::move(bv));
    }
    for (const auto* b : p.preference_order()) v.preference.push_back(b->ref().value);
    for (const auto& [order, rec] : p.lines()) v.lines.emplace(order.value, rec.qty.value);
    const auto n = [](const std::optional<quantity>& q) -> std::optional<std::int64_t> {
        if (!q) return std::nullopt;
        return q->value;
    };
    v.r = rule{n(p.replenishment().reorder_point), n(p.replenishment().max_level), n(p.replenishment().multiple)};
    return v;
}

inline void showValue(const product_view& v, std::ostream& os) {
    os << fmt::format("{} available {}:", v.sku, v.available);
    for (const auto& b : v.batches) {
        os << fmt::format(" [{} {}/{}", b.ref, b.allocated, b.purchased);
        for (const auto& [o, q] : b.entries) os << fmt::format(" {}:{}", o, q);
        os << "]";
    }
}

/// No batch has more allocated than purchased, allocated + available == purchased for every
/// batch, and the product's available quantity is its batches' (so never negative).
inline void assert_never_oversold(const product& p) {
    std::int64_t available = 0;
    for (const auto& b : p.batches()) {
        RC_ASSERT(b.available().value >= 0);
        RC_ASSERT(b.allocated().value <= b.purchased().value);
        RC_ASSERT(b.allocated().value + b.available().value == b.purchased().value);
        std::int64_t sum = 0;
        for (const auto& e : b.allocations()) sum += e.qty.value;
        RC_ASSERT(sum == b.allocated().value);
        available += b.available().value;
    }
    RC_ASSERT(p.available().value >= 0);
    RC_ASSERT(p.available().value == available);
}

/// Each order has at most one line record in the product, and the batch entries of that order
/// sum to the line's quantity (one entry per part); no batch entry belongs to no line.
inline void assert_each_line_once(const product& p) {
    std::map<std::string, std::int64_t> held;        // order -> units in batches
    std::map<std::string, std::size_t> entry_count;  // order -> batch entries
    for (const auto& b : p.batches()) {
        std::map<std::string, int> in_batch;
        for (const auto& e : b.allocations()) {
            RC_ASSERT(e.qty.value > 0);
            RC_ASSERT(++in_batch[e.order.value] == 1);
            held[e.order.value] += e.qty.value;
            ++entry_count[e.order.value];
        }
    }
    RC_ASSERT(held.size() == p.lines().size());
    for (const auto& [order, rec] : p.lines()) {
        const auto it = held.find(order.value);
        RC_ASSERT(it != held.end());
        RC_ASSERT(it->second == rec.qty.value);
        RC_ASSERT(entry_count[order.value] == rec.parts.size());
        std::int64_t parts = 0;
        for (const auto& part : rec.parts) {
            RC_ASSERT(part.batch < p.batches().size());
            parts += part.qty.value;
        }
        RC_ASSERT(parts == rec.qty.value);
    }
}

/// Every invariant of a product.
inline void assert_invariants(const product& p) {
    assert_never_oversold(p);
    assert_each_line_once(p);
}

// -- the reference model of one product ------------------------------------------------------------

struct model_batch {
    std::string ref;
    std::optional<int> eta;
    std::int64_t purchased;
    std::vector<std::pair<std::string, std::int64_t>> entries;  ///< oldest first
    [[nodiscard]] auto allocated() const -> std::int64_t {
        std::int64_t n = 0;
        for (const auto& e : entries) n += e.second;
        return n;
    }
    [[nodiscard]] auto available() const -> std::int64_t { return purchased - allocated(); }
};

/// What a product must do, written as plainly as possible: a linear search in preference order
/// instead of an index, no change tracking.
struct model_product {
    std::string sku;
    std::vector<model_batch> batches{};
    std::uint64_t version = 0;
    rule r{};
    bool low = false;

    [[nodiscard]] auto available() const -> std::int64_t {
        std::int64_t n = 0;
        for (const auto& b : batches) n += b.available();
        return n;
    }
    auto find(const std::string& ref) -> model_batch* {
        const auto it = std::find_if(batches.begin(), batches.end(), [&](const auto& b) { return b.ref == ref; });
        return it == batches.end() ? nullptr : &*it;
    }
    /// The batch holding the order's line, and the line's quantity.
    auto line(const std::string& order) -> std::pair<model_batch*, std::int64_t> {
        for (auto& b : batches) {
            for (const auto& e : b.entries) {
                if (e.first == order) return {&b, e.second};
            }
        }
        return {nullptr, 0};
    }
    /// Batch references in preference order: no ETA first, then earliest ETA, ties as added.
    [[nodiscard]] auto preference() const -> std::vector<const model_batch*> {
        std::vector<const model_batch*> out;
        for (const auto& b : batches) out.push_back(&b);
        std::stable_sort(out.begin(), out.end(), [](const model_batch* a, const model_batch* b) {
            return a->eta.value_or(0) < b->eta.value_or(0);
        });
        return out;
    }

    auto allocate(const std::string& order, std::int64_t qty, std::vector<event>& out) -> outcome {
        if (qty < 1) return {errc::invalid_quantity};
        if (const auto [b, q] = line(order); b != nullptr) {
            if (q != qty) return {errc::conflicting_resubmission};
            return {{}, b->ref};
        }
        for (const auto* c : preference()) {
            if (c->available() >= qty) {
                auto* b = find(c->ref);
                b->entries.emplace_back(order, qty);
                ++version;
                out.push_back(events::allocated{order_id{order}, allocation::sku{sku}, quantity{qty}, batch_ref{b->ref}});
                check_low(out);
                return {{}, b->ref};
            }
        }
        out.push_back(events::out_of_stock{order_id{order}, allocation::sku{sku}, quantity{qty}});
        return {errc::out_of_stock};
    }

    auto add_batch(const std::string& ref, std::int64_t qty, std::optional<int> eta, std::vector<event>& out)
        -> outcome {
        if (qty < 0) return {errc::invalid_quantity};
        if (auto* b = find(ref)) {
            if (b->purchased == qty && b->eta == eta) return {};
            return {errc::duplicate_batch};
        }
        batches.push_back({ref, eta, qty, {}});
        ++version;
        out.push_back(events::batch_created{batch_ref{ref}, allocation::sku{sku}, quantity{qty},
                                            eta ? std::optional{day(*eta)} : std::nullopt});
        check_low(out);
        return {};
    }

    auto deallocate(const std::string& order, std::optional<std::int64_t> qty, std::vector<event>& out)
        -> outcome {
        if (qty && *qty < 1) return {errc::invalid_quantity};
        const auto [b, q] = line(order);
        if (b == nullptr) return {errc::not_allocated};
        if (qty && *qty != q) return {errc::quantity_mismatch};
        std::erase_if(b->entries, [&](const auto& e) { return e.first == order; });
        ++version;
        out.push_back(events::deallocated{order_id{order}, allocation::sku{sku}, quantity{q}, batch_ref{b->ref},
                                          deallocation_reason::requested});
        check_low(out);
        return {{}, b->ref};
    }

    auto change_quantity(const std::string& ref, std::int64_t qty, std::vector<event>& out) -> outcome {
        if (qty < 0) return {errc::invalid_quantity};
        auto* b = find(ref);
        if (b == nullptr) return {errc::unknown_batch};
        if (b->purchased == qty) return {};
        out.push_back(events::batch_quantity_changed{batch_ref{ref}, allocation::sku{sku}, quantity{b->purchased},
                                                     quantity{qty}});
        b->purchased = qty;
        while (b->available() < 0) {
            const auto [order, q] = b->entries.back();
            b->entries.pop_back();
            out.push_back(events::deallocated{order_id{order}, allocation::sku{sku}, quantity{q}, batch_ref{ref},
                                              deallocation_reason::batch_shrunk});
        }
        ++version;
        check_low(out);
        return {};
    }

    auto set_rule(const rule& next, std::vector<event>& out) -> outcome {
        for (const auto& q : {next.reorder_point, next.max_level}) {
            if (q && *q < 0) return {errc::invalid_quantity};
        }
        if (next.multiple && *next.multiple < 1) return {errc::invalid_quantity};
        if (next == r) return {};
        r = next;
        ++version;
        low = false;
        check_low(out);
        return {};
    }

    // LowStock when the available quantity has just fallen to or below the reorder point.
    void check_low(std::vector<event>& out) {
        const auto avail = available();
        const bool now = r.reorder_point && avail <= *r.reorder_point;
        if (now && !low) {
            const auto target = r.max_level.value_or(*r.reorder_point);
            const auto step = r.multiple.value_or(1);
            auto need = std::max<std::int64_t>(target - avail, 1);
            need = (need + step - 1) / step * step;
            out.push_back(events::low_stock{allocation::sku{sku}, quantity{avail}, quantity{need}});
        }
        low = now;
    }

    /// The view a product in this state must give (see observe()).
    [[nodiscard]] auto view() const -> product_view {
        product_view v{sku, {}, {}, {}, available(), r};
        for (const auto& b : batches) {
            v.batches.push_back({b.ref, b.eta ? std::optional{day(*b.eta)} : std::nullopt, b.purchased,
                                 b.allocated(), b.available(), b.entries});
            for (const auto& [o, q] : b.entries) v.lines.emplace(o, q);
        }
        for (const auto* b : preference()) v.preference.push_back(b->ref);
        return v;
    }
};

// -- a command on a product ------------------------------------------------------------------------

/// Runs a command on a product directly; commands of other SKUs are sent as they are (they
/// must fail with sku_mismatch where the product checks it). AllocateOrder is not a product
/// command and must not be given.
inline auto perform(product& p, const op& o) -> outcome {
    return std::visit(
        [&](const auto& x) -> outcome {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, add_batch_op>) {
                return to_outcome(p.add_batch(batch_ref{x.ref}, quantity{x.qty},
                                              x.eta ? std::optional{day(*x.eta)} : std::nullopt));
            } else if constexpr (std::is_same_v<T, allocate_op>) {
                return to_outcome(p.allocate({order_id{x.order}, sku{x.sku}, quantity{x.qty}}));
            } else if constexpr (std::is_same_v<T, deallocate_op>) {
                return to_outcome(p.deallocate(order_id{x.order}, x.qty ? std::optional{quantity{*x.qty}} : std::nullopt));
            } else if constexpr (std::is_same_v<T, change_quantity_op>) {
                return to_outcome(p.change_batch_quantity(batch_ref{x.ref}, quantity{x.qty}));
            } else if constexpr (std::is_same_v<T, set_rule_op>) {
                return to_outcome(p.set_replenishment(x.r.get()));
            } else {
                RC_FAIL("AllocateOrder is not a product command");
            }
        },
        o.v);
}

/// What the model of the product says the same command does. Product commands take no SKU but
/// a line's, so only Allocate can name another SKU (errc::sku_mismatch).
inline auto perform(model_product& m, const op& o, std::vector<event>& out) -> outcome {
    return std::visit(
        [&](const auto& x) -> outcome {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, add_batch_op>) {
                return m.add_batch(x.ref, x.qty, x.eta, out);
            } else if constexpr (std::is_same_v<T, allocate_op>) {
                if (x.sku != m.sku) return {errc::sku_mismatch};
                return m.allocate(x.order, x.qty, out);
            } else if constexpr (std::is_same_v<T, deallocate_op>) {
                return m.deallocate(x.order, x.qty, out);
            } else if constexpr (std::is_same_v<T, change_quantity_op>) {
                return m.change_quantity(x.ref, x.qty, out);
            } else if constexpr (std::is_same_v<T, set_rule_op>) {
                return m.set_rule(x.r, out);
            } else {
                RC_FAIL("AllocateOrder is not a product command");
            }
        },
        o.v);
}

}  // namespace allocation::testing

#endif  // ALLOCATION_TESTS_PROPERTY_MODEL_HPP
