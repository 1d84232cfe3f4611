// allocation — properties of the whole flow (message bus, handlers, memory store, read model,
// notifications, publisher) over random sequences of commands on several SKUs.
// SPDX-License-Identifier: MIT
#include "property/application.hpp"
#include "property/model.hpp"

#include <doctest/doctest.h>
#include <rapidcheck.h>
#include <rapidcheck/state.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <variant>
#include <vector>

using namespace allocation;
using namespace allocation::testing;

namespace {

/// What the whole flow must do: one model product per SKU, and what the publisher, the
/// notifications and the read model must have been given.
struct flow_model {
    std::map<std::string, model_product> products;  // by SKU
    std::vector<event> published;
    std::size_t notices = 0;

    auto owner(const std::string& ref) -> model_product* {
        for (auto& [s, p] : products) {
            if (p.find(ref) != nullptr) return &p;
        }
        return nullptr;
    }
    auto find(const std::string& s) -> model_product* {
        const auto it = products.find(s);
        return it == products.end() ? nullptr : &it->second;
    }
    [[nodiscard]] auto skus() const -> std::vector<std::string> {
        std::vector<std::string> out;
        for (const auto& [s, p] : products) out.push_back(s);
        return out;
    }

    // The bus: each committed event to its observers in order, reallocating shrunk lines.
    void drain(std::vector<event> raised) {
        std::deque<event> queue(raised.begin(), raised.end());
        while (!queue.empty()) {
            auto e = std::move(queue.front());
            queue.pop_front();
            if (std::holds_alternative<events::allocated>(e) || std::holds_alternative<events::deallocated>(e) ||
                std::holds_alternative<events::out_of_stock>(e) || std::holds_alternative<events::low_stock>(e)) {
                published.push_back(e);
            }
            if (std::holds_alternative<events::out_of_stock>(e) || std::holds_alternative<events::low_stock>(e)) {
                ++notices;
            }
            if (const auto* d = std::get_if<events::deallocated>(&e); d && d->reason == deallocation_reason::batch_shrunk) {
                std::vector<event> more;
                (void)products.at(d->sku.value).allocate(d->order.value, d->qty.value, more);
                queue.insert(queue.end(), more.begin(), more.end());
            }
        }
    }

    auto perform(const op& o) -> outcome {
        std::vector<event> raised;
        const auto r = std::visit([&](const auto& x) { return handle(x, raised); }, o.v);
        drain(std::move(raised));
        return r;
    }

    auto handle(const add_batch_op& x, std::vector<event>& raised) -> outcome {
        if (x.qty < 0) return {errc::invalid_quantity};
        if (auto* p = owner(x.ref); p != nullptr && p->sku != x.sku) return {errc::duplicate_batch};
        auto* p = find(x.sku);
        if (p == nullptr) p = &products.emplace(x.sku, model_product{x.sku}).first->second;
        return p->add_batch(x.ref, x.qty, x.eta, raised);
    }
    auto handle(const allocate_op& x, std::vector<event>& raised) -> outcome {
        if (x.qty < 1) return {errc::invalid_quantity};
        auto* p = find(x.sku);
        if (p == nullptr) return {errc::invalid_sku};
        return p->allocate(x.order, x.qty, raised);  // a failure raises nothing but OutOfStock
    }
    auto handle(const deallocate_op& x, std::vector<event>& raised) -> outcome {
        if (x.qty && *x.qty < 1) return {errc::invalid_quantity};
        auto* p = find(x.sku);
        if (p == nullptr) return {errc::invalid_sku};
        return p->deallocate(x.order, x.qty, raised);
    }
    auto handle(const change_quantity_op& x, std::vector<event>& raised) -> outcome {
        if (x.qty < 0) return {errc::invalid_quantity};
        auto* p = owner(x.ref);
        if (p == nullptr) return {errc::unknown_batch};
        return p->change_quantity(x.ref, x.qty, raised);
    }
    auto handle(const set_rule_op& x, std::vector<event>& raised) -> outcome {
        auto* p = find(x.sku);
        if (p == nullptr) return {errc::invalid_sku};
        return p->set_rule(x.r, raised);
    }
    // All lines or none; lines of one SKU as one line of their summed quantity.
    auto handle(const order_op& x, std::vector<event>& raised) -> outcome {
        std::vector<std::pair<std::string, std::int64_t>> merged;
        for (const auto& line : x.lines) {
            const auto it =
                std::find_if(merged.begin(), merged.end(), [&](const auto& m) { return m.first == line.first; });
            if (it == merged.end()) {
                merged.push_back(line);
            } else {
                it->second += line.second;
            }
        }
        std::map<std::string, std::int64_t> by_sku(merged.begin(), merged.end());  // the handler's order
        std::map<std::string, model_product> changed;
        std::vector<event> all;
        std::map<std::string, std::string> batch_of;
        for (const auto& [s, qty] : by_sku) {
            const auto* found = find(s);
            if (found == nullptr) return {errc::invalid_sku};
            auto& p = changed.emplace(s, *found).first->second;
            std::vector<event> mine;
            const auto r = p.allocate(x.order, qty, mine);
            if (r.error == errc::out_of_stock) {
                raised.insert(raised.end(), mine.begin(), mine.end());  // the OutOfStock event alone
                return r;
            }
            if (r.error) return r;
            all.insert(all.end(), mine.begin(), mine.end());
            batch_of[s] = r.ref;
        }
        outcome out;
        for (const auto& [s, q] : merged) out.order.emplace_back(s, batch_of[s]);
        for (auto& [s, p] : changed) products.at(s) = std::move(p);
        raised.insert(raised.end(), all.begin(), all.end());
        return out;
    }
};

/// Asserts that the system agrees with the model: every product, the published events, the
/// notices and the allocations read model.
void assert_agrees(const flow_model& m, application& app) {
    RC_ASSERT(app.store.size() == m.products.size());
    const auto seen = app.products(m.skus());
    for (const auto& [s, p] : m.products) {
        RC_ASSERT(seen.at(s).first == p.view());
        RC_ASSERT(seen.at(s).second == p.version);
    }
    const auto published = app.pub.published();
    RC_ASSERT(published.size() == m.published.size());
    for (std::size_t i = 0; i < published.size(); ++i) {
        RC_ASSERT(published[i].event == m.published[i]);
        RC_ASSERT(published[i].channel == events::channel(m.published[i]));
    }
    RC_ASSERT(app.notes.sent().size() == m.notices);
    RC_ASSERT(app.log.empty());
}

/// The allocations read model lists, for every order, exactly the (SKU, batch) of its lines.
void assert_read_model_agrees(application& app, const std::vector<std::string>& skus) {
    std::map<std::string, std::set<std::pair<std::string, std::string>>> expected;
    for (const auto& s : skus) {
        RC_ASSERT(app.store.read(sku{s}, [&](const product& p) {
            for (const auto& [order, rec] : p.lines()) {
                for (const auto& part : rec.parts) expected[order.value].emplace(s, p.batches()[part.batch].ref().value);
            }
        }));
    }
    for (int i = 0; i < 7; ++i) {
        const auto order = fmt::format("o{}", i);
        std::set<std::pair<std::string, std::string>> rows;
        const auto got = app.view.get(order_id{order});
        RC_ASSERT(got.has_value());
        for (const auto& row : got.value()) RC_ASSERT(rows.emplace(row.sku.value, row.batch.value).second);
        RC_ASSERT(rows == expected[order]);
    }
}

// -- the state machine ------------------------------------------------------------------------------

using flow_command = rc::state::Command<flow_model, application>;

struct flow_step final : flow_command {
    op o;
    explicit flow_step(op x) : o(std::move(x)) {}

    void apply(flow_model& s) const override { (void)s.perform(o); }
    void run(const flow_model& s0, application& app) const override {
        auto s1 = s0;
        const auto expected = s1.perform(o);
        RC_ASSERT(app.perform(o) == expected);
        assert_agrees(s1, app);
        assert_read_model_agrees(app, s1.skus());
    }
    void show(std::ostream& os) const override { showValue(o, os); }
};

auto gen_flow_step(const flow_model&) -> rc::Gen<std::shared_ptr<const flow_command>> {
    return rc::gen::map(gen_op(3, true),
                        [](op o) -> std::shared_ptr<const flow_command> { return std::make_shared<flow_step>(std::move(o)); });
}

auto gen_ops() { return rc::gen::container<std::vector<op>>(gen_op(3, true)); }
const std::vector<std::string> all_skus{"S0", "S1", "S2"};

auto known(application& app) -> std::vector<std::string> { return app.known(all_skus); }

}  // namespace

TEST_SUITE("property") {

TEST_CASE("the message bus on the memory store does what the reference model says for any sequence of commands") {
    CHECK(rc::check([] {
        application app;
        rc::state::check(flow_model{}, app, &gen_flow_step);
    }));
}

TEST_CASE("through the message bus no batch is ever allocated more than it holds, nor a line twice") {
    CHECK(rc::check([] {
        application app;
        for (const auto& o : *gen_ops()) {
            (void)app.perform(o);
            (void)app.products(known(app));  // asserts every product's invariants
        }
    }));
}

TEST_CASE("through the message bus the version increases on every change and only on a change") {
    CHECK(rc::check([] {
        application app;
        for (const auto& o : *gen_ops()) {
            const auto before = app.products(known(app));
            (void)app.perform(o);
            for (const auto& [s, now] : app.products(known(app))) {
                const auto it = before.find(s);
                if (it == before.end()) continue;  // a new product
                if (now.first == it->second.first) {
                    RC_ASSERT(now.second == it->second.second);
                } else {
                    RC_ASSERT(now.second > it->second.second);
                }
            }
        }
    }));
}

TEST_CASE("an order is allocated whole or not at all") {
    CHECK(rc::check([] {
        application app;
        for (const auto& o : *gen_ops()) {
            const auto* x = std::get_if<order_op>(&o.v);
            const auto before = app.products(known(app));
            const auto r = app.perform(o);
            if (x == nullptr) continue;
            const auto after = app.products(known(app));
            if (r.error) {
                // Nothing of the order changed: every product is as it was (OutOfStock is an event).
                RC_ASSERT(after == before);
                continue;
            }
            // Every SKU is allocated, with the quantity of all its lines together.
            std::map<std::string, std::int64_t> wanted;
            for (const auto& [s, q] : x->lines) wanted[s] += q;
            RC_ASSERT(r.order.size() == wanted.size());
            for (const auto& want : wanted) {
                const auto& s = want.first;  // not a structured binding: clang 14 cannot capture those
                const auto q = want.second;
                RC_ASSERT(after.at(s).first.lines.at(x->order) == q);
                const auto it = std::find_if(r.order.begin(), r.order.end(), [&](const auto& a) { return a.first == s; });
                RC_ASSERT(it != r.order.end());
                const auto& batches = after.at(s).first.batches;
                const auto b = std::find_if(batches.begin(), batches.end(), [&](const auto& v) { return v.ref == it->second; });
                RC_ASSERT(b != batches.end());
                RC_ASSERT(std::count(b->entries.begin(), b->entries.end(), std::pair{x->order, q}) == 1);
            }
        }
    }));
}

TEST_CASE("an order naming one SKU on several lines never takes more than exists") {
    CHECK(rc::check([] {
        application app;
        const auto stock = *rc::gen::inRange<std::int64_t>(0, 12);
        RC_ASSERT(app.perform(op{add_batch_op{"S0", "b0", stock, std::nullopt}}) == outcome{});
        const auto lines = *rc::gen::nonEmpty(rc::gen::container<std::vector<std::int64_t>>(rc::gen::inRange<std::int64_t>(1, 8)));
        order_op order{"o0", {}};
        std::int64_t total = 0;
        for (const auto q : lines) {
            order.lines.emplace_back("S0", q);
            total += q;
        }
        const auto r = app.perform(op{order});
        const auto after = app.products({"S0"}).at("S0").first;
        if (total <= stock) {
            RC_ASSERT(r.error == std::error_code{});
            RC_ASSERT(after.lines.at("o0") == total);
        } else {
            RC_ASSERT(r.error == std::error_code{errc::out_of_stock});
            RC_ASSERT(after.lines.empty());
        }
        RC_ASSERT(after.available == (total <= stock ? stock - total : stock));
    }));
}

TEST_CASE("the allocations read model always agrees with the products") {
    CHECK(rc::check([] {
        application app;
        for (const auto& o : *gen_ops()) {
            (void)app.perform(o);
            assert_read_model_agrees(app, known(app));
        }
    }));
}

}  // TEST_SUITE("property")
