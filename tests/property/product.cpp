// allocation — properties of allocation::product over random sequences of commands: the
// product agrees with a plain reference model, never oversells, allocates each line once,
// versions every change, raises LowStock once per crossing and rolls back exactly.
// SPDX-License-Identifier: MIT
#include "property/model.hpp"

#include <doctest/doctest.h>
#include <rapidcheck.h>
#include <rapidcheck/state.h>

#include <algorithm>
#include <memory>
#include <variant>
#include <vector>

using namespace allocation;
using namespace allocation::testing;

namespace product_tests {

auto gen_ops() { return rc::gen::container<std::vector<op>>(gen_op(2, false)); }

template <class Event>
auto count(std::span<const event> events) -> std::size_t {
    return static_cast<std::size_t>(
        std::count_if(events.begin(), events.end(), [](const event& e) { return std::holds_alternative<Event>(e); }));
}

// -- the state machine: the product against the model ------------------------------------------------

struct product_model {
    model_product m{"S0"};
    std::vector<event> events;
};
using product_command = rc::state::Command<product_model, product>;

struct product_step final : product_command {
    op o;
    explicit product_step(op x) : o(std::move(x)) {}

    void apply(product_model& s) const override { (void)perform(s.m, o, s.events); }

    void run(const product_model& s0, product& p) const override {
        auto s1 = s0;
        const auto expected = perform(s1.m, o, s1.events);
        RC_ASSERT(perform(p, o) == expected);
        assert_invariants(p);
        RC_ASSERT(observe(p) == s1.m.view());
        RC_ASSERT(p.version() == s1.m.version);
        RC_ASSERT(std::ranges::equal(p.events(), s1.events));
    }

    void show(std::ostream& os) const override { showValue(o, os); }
};

auto gen_product_step(const product_model&) -> rc::Gen<std::shared_ptr<const product_command>> {
    return rc::gen::map(gen_op(2, false),
                        [](op o) -> std::shared_ptr<const product_command> { return std::make_shared<product_step>(std::move(o)); });
}


TEST_SUITE("property") {

TEST_CASE("a product does what the reference model says for any sequence of commands") {
    CHECK(rc::check([] {
        product p{sku{"S0"}};
        rc::state::check(product_model{}, p, &gen_product_step);
    }));
}

TEST_CASE("no batch is ever allocated more than it holds") {
    CHECK(rc::check([] {
        product p{sku{"S0"}};
        for (const auto& o : *gen_ops()) {
            (void)perform(p, o);
            assert_never_oversold(p);
        }
    }));
}

TEST_CASE("no order line is ever allocated twice") {
    CHECK(rc::check([] {
        product p{sku{"S0"}};
        for (const auto& o : *gen_ops()) {
            const auto* a = std::get_if<allocate_op>(&o.v);
            const auto* before = a != nullptr ? p.find_line(order_id{a->order}) : nullptr;
            const auto first = before != nullptr ? p.batches()[before->parts.front().batch].ref() : batch_ref{};
            const auto events = p.events().size();
            const auto r = perform(p, o);
            assert_each_line_once(p);
            if (before != nullptr && r.error == std::error_code{}) {
                // A resubmitted line is answered with its batch, and nothing happens.
                RC_ASSERT(r.ref == first.value);
                RC_ASSERT(p.events().size() == events);
            }
        }
    }));
}

TEST_CASE("the version increases on every change and only on a change") {
    CHECK(rc::check([] {
        product p{sku{"S0"}};
        for (const auto& o : *gen_ops()) {
            const auto before = observe(p);
            const auto version = p.version();
            const auto r = perform(p, o);
            if (observe(p) == before) {
                RC_ASSERT(p.version() == version);
            } else {
                RC_ASSERT(r.error == std::error_code{});
                RC_ASSERT(p.version() > version);
            }
        }
    }));
}

TEST_CASE("low stock is raised exactly once per crossing of the reorder point") {
    CHECK(rc::check([] {
        product p{sku{"S0"}};
        bool low = false;  // at or below the reorder point after the previous command
        for (const auto& o : *gen_ops()) {
            const auto rule_before = observe(p).r;
            const auto events = p.events().size();
            (void)perform(p, o);
            const auto after = observe(p);
            const bool now = after.r.reorder_point && after.available <= *after.r.reorder_point;
            // A new rule starts a new watch: a product already low under it is a crossing.
            const bool crossed = now && (!low || !(after.r == rule_before));
            const auto raised = p.events().subspan(events);
            RC_ASSERT(count<events::low_stock>(raised) == (crossed ? 1U : 0U));
            if (crossed) {
                const auto& e = std::get<events::low_stock>(
                    *std::find_if(raised.begin(), raised.end(), [](const event& x) { return std::holds_alternative<events::low_stock>(x); }));
                RC_ASSERT(e.available.value == after.available);
                const auto target = after.r.max_level.value_or(*after.r.reorder_point);
                const auto step = after.r.multiple.value_or(1);
                RC_ASSERT(e.reorder_qty.value >= 1);
                RC_ASSERT(e.reorder_qty.value % step == 0);
                RC_ASSERT(e.reorder_qty.value >= target - after.available);
                RC_ASSERT(e.reorder_qty.value - step < std::max<std::int64_t>(target - after.available, 1));
            }
            low = now;
        }
    }));
}

TEST_CASE("a rollback restores exactly the state of the checkpoint") {
    CHECK(rc::check([] {
        product p{sku{"S0"}};
        for (const auto& o : *gen_ops()) (void)perform(p, o);
        const auto before = observe(p);
        const auto version = p.version();
        const std::vector<event> events(p.events().begin(), p.events().end());
        product copy = p;  // never checkpointed: what the product must go on to behave like

        p.checkpoint();
        for (const auto& o : *gen_ops()) (void)perform(p, o);
        p.rollback();

        RC_ASSERT(!p.tracking());
        RC_ASSERT(observe(p) == before);
        RC_ASSERT(p.version() == version);
        RC_ASSERT(std::ranges::equal(p.events(), events));
        assert_invariants(p);
        // Its index and low-stock state came back too: it goes on exactly like the copy.
        for (const auto& o : *gen_ops()) {
            RC_ASSERT(perform(p, o) == perform(copy, o));
            RC_ASSERT(observe(p) == observe(copy));
            RC_ASSERT(p.version() == copy.version());
            RC_ASSERT(std::ranges::equal(p.events(), copy.events()));
        }
    }));
}

TEST_CASE("changes accepted after a checkpoint are kept") {
    CHECK(rc::check([] {
        product p{sku{"S0"}};
        product copy = p;
        p.checkpoint();
        for (const auto& o : *gen_ops()) RC_ASSERT(perform(p, o) == perform(copy, o));
        p.accept();
        p.rollback();  // without a checkpoint: nothing to undo
        RC_ASSERT(observe(p) == observe(copy));
        RC_ASSERT(p.version() == copy.version());
        RC_ASSERT(std::ranges::equal(p.events(), copy.events()));
    }));
}

}  // TEST_SUITE("property")
}  // namespace product_tests
