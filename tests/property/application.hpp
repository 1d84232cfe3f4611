// allocation — the system under test of the whole-flow properties and of the domain fuzz
// target: a message bus bootstrapped on the memory store with in-memory adapters, driven by
// the commands of model.hpp.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_TESTS_PROPERTY_APPLICATION_HPP
#define ALLOCATION_TESTS_PROPERTY_APPLICATION_HPP

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <rapidcheck.h>

#include <allocation/allocation.hpp>

#include "property/model.hpp"

namespace allocation::testing {

using bus_type = basic_message_bus<memory::store>;

/// The system under test: a bus bootstrapped on a memory store with in-memory adapters.
struct application {
    memory::store store;
    memory::allocations_view view;
    memory::notifications notes;
    memory::publisher pub;
    std::vector<std::string> log;
    bus_type bus = bootstrap(store, options(), std::ref(view), std::ref(notes), std::ref(pub));

    auto options() -> bootstrap_options {
        bootstrap_options o;
        o.log = [this](std::string_view line) { log.emplace_back(line); };
        return o;
    }

    auto perform(const op& o) -> outcome {
        return std::visit(
            [&](const auto& x) -> outcome {
                using T = std::decay_t<decltype(x)>;
                if constexpr (std::is_same_v<T, add_batch_op>) {
                    return to_outcome(bus.handle(commands::create_batch{
                        batch_ref{x.ref}, sku{x.sku}, quantity{x.qty},
                        x.eta ? std::optional{day(*x.eta)} : std::nullopt, std::nullopt}));
                } else if constexpr (std::is_same_v<T, allocate_op>) {
                    return to_outcome(bus.handle(commands::allocate{order_id{x.order}, sku{x.sku}, quantity{x.qty}}));
                } else if constexpr (std::is_same_v<T, deallocate_op>) {
                    return to_outcome(bus.handle(commands::deallocate{
                        order_id{x.order}, sku{x.sku}, x.qty ? std::optional{quantity{*x.qty}} : std::nullopt}));
                } else if constexpr (std::is_same_v<T, change_quantity_op>) {
                    return to_outcome(bus.handle(commands::change_batch_quantity{batch_ref{x.ref}, quantity{x.qty}}));
                } else if constexpr (std::is_same_v<T, set_rule_op>) {
                    return to_outcome(bus.handle(commands::set_replenishment{sku{x.sku}, x.r.get()}));
                } else {
                    commands::allocate_order cmd{order_id{x.order}, {}};
                    for (const auto& [s, q] : x.lines) cmd.lines.push_back({sku{s}, quantity{q}});
                    return to_outcome(bus.handle(cmd));
                }
            },
            o.v);
    }

    /// Those of `candidates` that are the SKU of a product in the store.
    auto known(const std::vector<std::string>& candidates) -> std::vector<std::string> {
        std::vector<std::string> out;
        for (const auto& s : candidates) {
            if (store.read(sku{s}, [](const product&) {})) out.push_back(s);
        }
        return out;
    }

    /// Every product's view and version, by SKU.
    auto products(const std::vector<std::string>& skus) -> std::map<std::string, std::pair<product_view, std::uint64_t>> {
        std::map<std::string, std::pair<product_view, std::uint64_t>> out;
        for (const auto& s : skus) {
            RC_ASSERT(store.read(sku{s}, [&](const product& p) {
                assert_invariants(p);
                out.emplace(s, std::pair{observe(p), p.version()});
            }));
        }
        return out;
    }
};

}  // namespace allocation::testing

#endif  // ALLOCATION_TESTS_PROPERTY_APPLICATION_HPP
