// allocation fuzzing — random command sequences against the domain, read from the fuzzer's
// bytes: a product must do what the property tests' reference model says (tests/property/
// model.hpp), and through the message bus on the memory store no batch is ever over-allocated,
// available = purchased - allocated, an order is allocated whole or not at all, and a
// resubmitted allocation is answered as the first time without a second allocation or event.
// SPDX-License-Identifier: MIT
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include <allocation/allocation.hpp>
#include <rapidcheck.h>

#include "fuzz/input.hpp"
#include "property/application.hpp"
#include "property/model.hpp"

using namespace allocation;
using namespace allocation::testing;

namespace {

const std::vector<std::string> skus{"S0", "S1", "S2"};

auto name(fuzz::byte_reader& in, const char* prefix, unsigned n) -> std::string {
    return fmt::format("{}{}", prefix, in.pick(n));
}

auto optional_qty(fuzz::byte_reader& in, std::int64_t lo, std::int64_t hi) -> std::optional<std::int64_t> {
    if (in.pick(3) == 0) return std::nullopt;
    return in.in_range(lo, hi);
}

/// One command: over small pools of names so that commands meet, with invalid quantities too.
auto next_op(fuzz::byte_reader& in) -> op {
    switch (in.pick(6)) {
        case 0: {
            auto s = name(in, "S", 3);
            auto r = name(in, "b", 6);
            const auto q = in.in_range(-1, 30);
            const auto eta = in.pick(5);
            return op{add_batch_op{std::move(s), std::move(r), q, eta == 0 ? std::nullopt : std::optional<int>{int(eta)}}};
        }
        case 1: {
            auto o = name(in, "o", 6);
            auto s = name(in, "S", 3);
            return op{allocate_op{std::move(o), std::move(s), in.in_range(0, 12)}};
        }
        case 2: {
            auto o = name(in, "o", 6);
            auto s = name(in, "S", 3);
            return op{deallocate_op{std::move(o), std::move(s), optional_qty(in, 0, 12)}};
        }
        case 3: {
            auto r = name(in, "b", 7);
            return op{change_quantity_op{std::move(r), in.in_range(-1, 30)}};
        }
        case 4: {
            auto s = name(in, "S", 3);
            auto point = optional_qty(in, 0, 25);
            auto max = optional_qty(in, 0, 40);
            return op{set_rule_op{std::move(s), rule{point, max, optional_qty(in, 1, 8)}}};
        }
        default: {
            order_op o{name(in, "o", 6), {}};
            const auto n = 1 + in.pick(3);
            for (unsigned i = 0; i < n; ++i) {
                auto s = name(in, "S", 3);
                o.lines.emplace_back(std::move(s), in.in_range(1, 8));
            }
            return op{std::move(o)};
        }
    }
}

}  // namespace

extern "C" auto LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) -> int {
    fuzz::byte_reader in(std::span(data, size));
    product p{sku{"S0"}};
    model_product m{"S0"};
    std::vector<event> events;
    application app;
    try {
        for (int step = 0; step < 64 && !in.empty(); ++step) {
            const op o = next_op(in);
            const bool is_order = std::holds_alternative<order_op>(o.v);

            // The product alone against the reference model.
            if (!is_order) {
                const auto expected = perform(m, o, events);
                RC_ASSERT(perform(p, o) == expected);
                assert_invariants(p);
                RC_ASSERT(observe(p) == m.view());
                RC_ASSERT(p.version() == m.version);
                RC_ASSERT(std::ranges::equal(p.events(), events));
            }

            // The whole flow.
            std::map<std::string, std::pair<product_view, std::uint64_t>> before;  // taken for orders only
            if (is_order) before = app.products(app.known(skus));
            const auto r = app.perform(o);
            const auto after = app.products(app.known(skus));
            if (is_order && r.error) RC_ASSERT(after == before);  // nothing of a refused order
            if ((is_order || std::holds_alternative<allocate_op>(o.v)) && !r.error) {
                const auto published = app.pub.published().size();
                RC_ASSERT(app.perform(o) == r);  // the first answer again,
                RC_ASSERT(app.products(app.known(skus)) == after);  // no second allocation,
                RC_ASSERT(app.pub.published().size() == published);  // no second event
            }
            RC_ASSERT(app.log.empty());
        }
    } catch (const rc::detail::CaseResult& failure) {
        std::fprintf(stderr, "domain: %s\n", failure.description.c_str());
        std::abort();
    }
    return 0;
}
