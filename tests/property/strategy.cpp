// allocation — properties of strategies whose preference reads the batches' changing state: a
// product's allocate() and preference_order() agree whatever the strategy may legally read.
// SPDX-License-Identifier: MIT
#include <allocation/domain/product.hpp>
#include <allocation/strategies/strategy.hpp>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <rapidcheck.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

using namespace allocation;

namespace {

// Prefers the batch with the most stock left: its order changes with every allocation.
struct most_stock {
    template <class Batch>
    [[nodiscard]] auto prefers(const Batch& a, const Batch& b) const noexcept -> bool {
        return a.available() > b.available();
    }
};
static_assert(allocation_strategy<most_stock, batch>);
static_assert(!stable_batch_preference<most_stock>);

// The batch preference_order() says a line of `qty` goes to: the first that can take it whole.
template <class Product>
auto expected_batch(const Product& p, quantity qty) -> std::optional<batch_ref> {
    for (const auto* b : p.preference_order()) {
        if (b->can_allocate(qty)) return b->ref();
    }
    return std::nullopt;
}

}  // namespace

TEST_SUITE("property") {
TEST_CASE("a strategy preferring the batch with the most stock allocates where preference_order() says") {
    CHECK(rc::check([] {
        basic_product<most_stock> p{sku{"S"}};
        const auto batches = *rc::gen::inRange(1, 9);
        for (int i = 0; i < batches; ++i) {
            RC_ASSERT(p.add_batch(batch_ref{fmt::format("b{}", i)}, quantity{*rc::gen::inRange<std::int64_t>(0, 40)}));
        }
        const auto steps = *rc::gen::inRange(1, 80);
        int next_order = 0;
        std::vector<std::string> allocated;
        for (int step = 0; step < steps; ++step) {
            switch (*rc::gen::inRange(0, 4)) {
                case 0:
                case 1: {  // allocate a new line
                    const quantity qty{*rc::gen::inRange<std::int64_t>(1, 15)};
                    const auto want = expected_batch(p, qty);
                    const auto order = fmt::format("o{}", next_order++);
                    const auto got = p.allocate({order_id{order}, sku{"S"}, qty});
                    if (want) {
                        RC_ASSERT(got.has_value());
                        RC_ASSERT(got.value() == *want);
                        allocated.push_back(order);
                    } else {
                        RC_ASSERT(got.error() == errc::out_of_stock);
                    }
                    break;
                }
                case 2: {  // deallocate a line
                    if (allocated.empty()) break;
                    const auto k = static_cast<std::size_t>(*rc::gen::inRange<std::size_t>(0, allocated.size()));
                    RC_ASSERT(p.deallocate(order_id{allocated[k]}));
                    allocated.erase(allocated.begin() + static_cast<std::ptrdiff_t>(k));
                    break;
                }
                default: {  // change a batch's quantity (may deallocate lines)
                    const auto i = *rc::gen::inRange(0, batches);
                    RC_ASSERT(p.change_batch_quantity(batch_ref{fmt::format("b{}", i)},
                                                      quantity{*rc::gen::inRange<std::int64_t>(0, 40)}));
                    std::erase_if(allocated, [&](const std::string& o) { return p.find_line(order_id{o}) == nullptr; });
                    break;
                }
            }
        }
        for (const auto& b : p.batches()) RC_ASSERT(b.available() >= quantity{});
    }));
}

TEST_CASE("a split line under a preference on stock takes the batches in preference_order()") {
    CHECK(rc::check([] {
        basic_product<most_stock> p{sku{"S"}};
        const auto batches = *rc::gen::inRange(1, 7);
        for (int i = 0; i < batches; ++i) {
            RC_ASSERT(p.add_batch(batch_ref{fmt::format("b{}", i)}, quantity{*rc::gen::inRange<std::int64_t>(1, 20)}));
        }
        const quantity first{*rc::gen::inRange<std::int64_t>(1, 10)};
        (void)p.allocate({order_id{"warm"}, sku{"S"}, first});
        const quantity qty{*rc::gen::inRange<std::int64_t>(1, 60)};
        // What preference_order() says: whole in the first batch that can take it, else each
        // batch in that order taking what it has.
        std::vector<line_allocation> want;
        for (const auto* b : p.preference_order()) {
            if (b->can_allocate(qty)) {
                want = {{sku{"S"}, qty, b->ref()}};
                break;
            }
        }
        if (want.empty()) {
            auto remaining = qty;
            for (const auto* b : p.preference_order()) {
                const auto take = std::min(remaining, b->available());
                if (take <= quantity{}) continue;
                want.push_back({sku{"S"}, take, b->ref()});
                remaining -= take;
            }
            if (remaining > quantity{}) want.clear();
        }
        const auto parts = p.allocate_split({order_id{"o"}, sku{"S"}, qty});
        if (want.empty()) {
            RC_ASSERT(parts.error() == errc::out_of_stock);
        } else {
            RC_ASSERT(parts.value() == want);
        }
    }));
}
}
