// allocation — tests of allocation/domain/product.hpp: the rules of allocation.
// SPDX-License-Identifier: MIT
#include <allocation/domain/product.hpp>

#include <doctest/doctest.h>

#include "event_checks.hpp"

#include <chrono>
#include <variant>

using namespace allocation;
using namespace std::chrono_literals;
using checks::all_events;
using checks::count_events;
using checks::last_event;

namespace product_tests {
auto day(int d) -> date { return date{std::chrono::year{2026}, std::chrono::month{12}, std::chrono::day{static_cast<unsigned>(d)}}; }
auto line(const char* order, std::int64_t qty, const char* code = "CHAIR") -> order_line {
    return {order_id{order}, sku{code}, quantity{qty}};
}

TEST_SUITE("domain") {
TEST_CASE("allocating a line reduces the chosen batch's available quantity") {
    product p{sku{"CHAIR"}};
    REQUIRE(p.add_batch(batch_ref{"b1"}, quantity{20}));
    const auto ref = p.allocate(line("o1", 2));
    REQUIRE(ref);
    CHECK(ref.value() == batch_ref{"b1"});
    CHECK(p.find_batch(batch_ref{"b1"})->available() == quantity{18});
    CHECK(p.find_batch(batch_ref{"b1"})->allocated() == quantity{2});
    CHECK(p.available() == quantity{18});
    CHECK(last_event<events::allocated>(p) == events::allocated{order_id{"o1"}, sku{"CHAIR"}, quantity{2}, batch_ref{"b1"}});
}

TEST_CASE("warehouse stock is preferred to shipments, then the earliest ETA") {
    product p{sku{"CHAIR"}};
    REQUIRE(p.add_batch(batch_ref{"slow"}, quantity{100}, day(20)));
    REQUIRE(p.add_batch(batch_ref{"fast"}, quantity{100}, day(2)));
    SUBCASE("a warehouse batch wins over any shipment") {
        REQUIRE(p.add_batch(batch_ref{"in-stock"}, quantity{100}));
        CHECK(p.allocate(line("o1", 10)).value() == batch_ref{"in-stock"});
    }
    SUBCASE("without warehouse stock the earliest shipment wins") {
        CHECK(p.allocate(line("o1", 10)).value() == batch_ref{"fast"});
    }
    SUBCASE("batches with the same ETA keep the order they were added in") {
        REQUIRE(p.add_batch(batch_ref{"fast-too"}, quantity{100}, day(2)));
        CHECK(p.allocate(line("o1", 10)).value() == batch_ref{"fast"});
    }
    SUBCASE("the preference order lists the batches as the strategy ranks them") {
        REQUIRE(p.add_batch(batch_ref{"in-stock"}, quantity{100}));
        const auto order = p.preference_order();
        REQUIRE(order.size() == 3);
        CHECK(order[0]->ref() == batch_ref{"in-stock"});
        CHECK(order[1]->ref() == batch_ref{"fast"});
        CHECK(order[2]->ref() == batch_ref{"slow"});
    }
}

TEST_CASE("a full preferred batch is skipped for the next one that can take the whole line") {
    product p{sku{"CHAIR"}};
    REQUIRE(p.add_batch(batch_ref{"small"}, quantity{5}));
    REQUIRE(p.add_batch(batch_ref{"big"}, quantity{50}, day(3)));
    CHECK(p.allocate(line("o1", 4)).value() == batch_ref{"small"});
    CHECK(p.allocate(line("o2", 4)).value() == batch_ref{"big"});
    CHECK(p.allocate(line("o3", 1)).value() == batch_ref{"small"});
}

TEST_CASE("a line no batch can take raises OutOfStock and changes nothing") {
    product p{sku{"CHAIR"}};
    REQUIRE(p.add_batch(batch_ref{"b1"}, quantity{10}));
    const auto version = p.version();
    const auto r = p.allocate(line("o1", 11));
    CHECK(r.error() == errc::out_of_stock);
    CHECK(p.version() == version);
    CHECK(p.available() == quantity{10});
    CHECK(p.lines().empty());
    CHECK(last_event<events::out_of_stock>(p) == events::out_of_stock{order_id{"o1"}, sku{"CHAIR"}, quantity{11}});
}

TEST_CASE("a product never sells more than it holds") {
    product p{sku{"CHAIR"}};
    REQUIRE(p.add_batch(batch_ref{"b1"}, quantity{10}));
    REQUIRE(p.add_batch(batch_ref{"b2"}, quantity{10}));
    for (int i = 0; i < 30; ++i) (void)p.allocate(line(fmt::format("o{}", i).c_str(), 3));
    for (const auto& b : p.batches()) {
        CHECK(b.allocated() <= b.purchased());
        CHECK(b.available() >= quantity{0});
    }
    CHECK(p.lines().size() == 6);
}

TEST_CASE("the same order line sent again is answered with its allocation, once") {
    product p{sku{"CHAIR"}};
    REQUIRE(p.add_batch(batch_ref{"b1"}, quantity{10}));
    REQUIRE(p.allocate(line("o1", 3)));
    const auto version = p.version();
    const auto events = p.events().size();
    SUBCASE("with the same quantity it gets the same batch and no new event") {
        CHECK(p.allocate(line("o1", 3)).value() == batch_ref{"b1"});
        CHECK(p.version() == version);
        CHECK(p.events().size() == events);
        CHECK(p.available() == quantity{7});
    }
    SUBCASE("with another quantity it is a conflicting resubmission") {
        CHECK(p.allocate(line("o1", 4)).error() == errc::conflicting_resubmission);
        CHECK(p.available() == quantity{7});
        CHECK(p.version() == version);
    }
}

TEST_CASE("bad lines are refused with a clear error and change nothing") {
    product p{sku{"CHAIR"}};
    REQUIRE(p.add_batch(batch_ref{"b1"}, quantity{10}));
    const auto version = p.version();
    CHECK(p.allocate(line("o1", 0)).error() == errc::invalid_quantity);
    CHECK(p.allocate(line("o1", -5)).error() == errc::invalid_quantity);
    CHECK(p.allocate(line("o1", max_quantity + 1)).error() == errc::invalid_quantity);
    CHECK(p.allocate(line("", 1)).error() == errc::invalid_identifier);
    CHECK(p.allocate(line("o\n1", 1)).error() == errc::invalid_identifier);
    CHECK(p.allocate(line("o1", 1, "LAMP")).error() == errc::sku_mismatch);
    CHECK(p.add_batch(batch_ref{"b2"}, quantity{-1}).error() == errc::invalid_quantity);
    CHECK(p.add_batch(batch_ref{std::string(256, 'x')}, quantity{1}).error() == errc::invalid_identifier);
    CHECK(p.version() == version);
    CHECK(p.available() == quantity{10});
}

TEST_CASE("adding a batch twice is harmless, but another batch under the same reference is refused") {
    product p{sku{"CHAIR"}};
    REQUIRE(p.add_batch(batch_ref{"b1"}, quantity{10}, day(1)));
    const auto version = p.version();
    CHECK(p.add_batch(batch_ref{"b1"}, quantity{10}, day(1)));
    CHECK(p.version() == version);
    CHECK(p.add_batch(batch_ref{"b1"}, quantity{11}, day(1)).error() == errc::duplicate_batch);
    CHECK(p.batches().size() == 1);
}

TEST_CASE("every state change increments the version") {
    product p{sku{"CHAIR"}};
    CHECK(p.version() == 0);
    REQUIRE(p.add_batch(batch_ref{"b1"}, quantity{10}));
    CHECK(p.version() == 1);
    REQUIRE(p.allocate(line("o1", 2)));
    CHECK(p.version() == 2);
    REQUIRE(p.change_batch_quantity(batch_ref{"b1"}, quantity{9}));
    CHECK(p.version() == 3);
    REQUIRE(p.deallocate(order_id{"o1"}));
    CHECK(p.version() == 4);
}

TEST_CASE("deallocating a line gives its stock back") {
    product p{sku{"CHAIR"}};
    REQUIRE(p.add_batch(batch_ref{"b1"}, quantity{10}));
    REQUIRE(p.allocate(line("o1", 4)));
    SUBCASE("without a quantity") {
        CHECK(p.deallocate(order_id{"o1"}).value() == batch_ref{"b1"});
        CHECK(p.available() == quantity{10});
        CHECK(p.find_line(order_id{"o1"}) == nullptr);
        const auto e = last_event<events::deallocated>(p);
        CHECK(e.qty == quantity{4});
        CHECK(e.reason == deallocation_reason::requested);
    }
    SUBCASE("with the allocated quantity") { CHECK(p.deallocate(order_id{"o1"}, quantity{4})); }
    SUBCASE("with another quantity it is refused") {
        CHECK(p.deallocate(order_id{"o1"}, quantity{3}).error() == errc::quantity_mismatch);
        CHECK(p.available() == quantity{6});
    }
    SUBCASE("a line that is not allocated is reported") {
        CHECK(p.deallocate(order_id{"o2"}).error() == errc::not_allocated);
    }
}

TEST_CASE("shrinking a batch deallocates its most recent lines first") {
    product p{sku{"CHAIR"}};
    REQUIRE(p.add_batch(batch_ref{"b1"}, quantity{20}));
    REQUIRE(p.allocate(line("early", 10)));
    REQUIRE(p.allocate(line("middle", 5)));
    REQUIRE(p.allocate(line("late", 4)));
    p.clear_events();
    REQUIRE(p.change_batch_quantity(batch_ref{"b1"}, quantity{12}));
    CHECK(p.find_line(order_id{"early"}) != nullptr);
    CHECK(p.find_line(order_id{"middle"}) == nullptr);
    CHECK(p.find_line(order_id{"late"}) == nullptr);
    CHECK(p.find_batch(batch_ref{"b1"})->allocated() == quantity{10});
    REQUIRE(count_events<events::deallocated>(p) == 2);
    const auto first = std::get<events::deallocated>(p.events()[1]);
    CHECK(first.order == order_id{"late"});
    CHECK(first.reason == deallocation_reason::batch_shrunk);
    CHECK(std::get<events::deallocated>(p.events()[2]).order == order_id{"middle"});
    SUBCASE("an unknown batch is reported") {
        CHECK(p.change_batch_quantity(batch_ref{"nope"}, quantity{1}).error() == errc::unknown_batch);
    }
}

TEST_CASE("low stock is announced once per crossing of the reorder point") {
    product p{sku{"LAMP"}, replenishment{.reorder_point = quantity{5}, .max_level = quantity{30}, .multiple = quantity{4}}};
    REQUIRE(p.add_batch(batch_ref{"b1"}, quantity{20}));
    CHECK(count_events<events::low_stock>(p) == 0);
    REQUIRE(p.allocate(line("o1", 15, "LAMP")));
    REQUIRE(count_events<events::low_stock>(p) == 1);
    const auto e = last_event<events::low_stock>(p);
    CHECK(e.available == quantity{5});
    CHECK(e.reorder_qty == quantity{28});  // 30 - 5 = 25, rounded up to a multiple of 4
    REQUIRE(p.allocate(line("o2", 1, "LAMP")));
    CHECK(count_events<events::low_stock>(p) == 1);
    REQUIRE(p.add_batch(batch_ref{"b2"}, quantity{20}));
    REQUIRE(p.allocate(line("o3", 20, "LAMP")));
    CHECK(count_events<events::low_stock>(p) == 2);
}

TEST_CASE("a product first received at or below its reorder point announces low stock") {
    product p{sku{"LAMP"}, replenishment{.reorder_point = quantity{5}, .max_level = quantity{12}, .multiple = std::nullopt}};
    CHECK(count_events<events::low_stock>(p) == 0);
    REQUIRE(p.add_batch(batch_ref{"b1"}, quantity{3}));
    REQUIRE(count_events<events::low_stock>(p) == 1);
    CHECK(last_event<events::low_stock>(p).available == quantity{3});
    CHECK(last_event<events::low_stock>(p).reorder_qty == quantity{9});
    REQUIRE(p.add_batch(batch_ref{"b2"}, quantity{1}));
    CHECK(count_events<events::low_stock>(p) == 1);  // still the same crossing
    SUBCASE("a product loaded from storage with its stock already low does not announce it again") {
        product loaded{sku{"LAMP"}, {batch{batch_ref{"b1"}, sku{"LAMP"}, quantity{3}}}, 4, p.replenishment()};
        REQUIRE(loaded.add_batch(batch_ref{"b3"}, quantity{1}));
        CHECK(count_events<events::low_stock>(loaded) == 0);
    }
}

TEST_CASE("without a maximum level the reorder quantity refills to the reorder point") {
    product p{sku{"LAMP"}, replenishment{.reorder_point = quantity{10}, .max_level = std::nullopt, .multiple = std::nullopt}};
    REQUIRE(p.add_batch(batch_ref{"b1"}, quantity{20}));
    REQUIRE(p.allocate(line("o1", 14, "LAMP")));
    CHECK(last_event<events::low_stock>(p).reorder_qty == quantity{4});
}

TEST_CASE("rollback returns the product to its checkpoint exactly") {
    product p{sku{"CHAIR"}};
    REQUIRE(p.add_batch(batch_ref{"b1"}, quantity{10}));
    REQUIRE(p.allocate(line("a", 3)));
    REQUIRE(p.allocate(line("b", 3)));
    p.checkpoint();
    REQUIRE(p.allocate(line("c", 3)));
    REQUIRE(p.change_batch_quantity(batch_ref{"b1"}, quantity{4}));
    REQUIRE(p.add_batch(batch_ref{"b2"}, quantity{5}));
    REQUIRE(p.deallocate(order_id{"a"}));
    CHECK_FALSE(p.changes().empty());
    p.rollback();
    CHECK(p.version() == 3);
    CHECK(p.batches().size() == 1);
    CHECK(p.available() == quantity{4});
    const auto entries = p.find_batch(batch_ref{"b1"})->allocations();
    REQUIRE(entries.size() == 2);
    CHECK(entries[0].order == order_id{"a"});
    CHECK(entries[1].order == order_id{"b"});
    CHECK(p.find_batch(batch_ref{"b1"})->purchased() == quantity{10});
    CHECK(p.find_line(order_id{"c"}) == nullptr);
    CHECK(p.events().size() == 3);
    CHECK(p.allocate(line("c", 3)).value() == batch_ref{"b1"});
}

TEST_CASE("a product loaded from storage knows its lines and version") {
    std::vector<batch> batches;
    batches.emplace_back(batch_ref{"b1"}, sku{"CHAIR"}, quantity{10}, std::nullopt, std::nullopt,
                         std::vector<batch::entry>{{order_id{"o1"}, quantity{4}}});
    const product p{sku{"CHAIR"}, std::move(batches), 7};
    CHECK(p.version() == 7);
    CHECK(p.available() == quantity{6});
    REQUIRE(p.find_line(order_id{"o1"}) != nullptr);
    CHECK(p.find_line(order_id{"o1"})->qty == quantity{4});
}
}

TEST_SUITE("domain") {
TEST_CASE("events taken after a checkpoint are not brought back by a rollback") {
    product p{sku{"CHAIR"}};
    REQUIRE(p.add_batch(batch_ref{"b1"}, quantity{10}));
    p.checkpoint();
    REQUIRE(p.allocate(line("o1", 2)));
    CHECK(p.take_events().size() == 2);
    REQUIRE(p.allocate(line("o2", 2)));
    p.rollback();
    CHECK(p.events().empty());
    CHECK(p.available() == quantity{10});
}

namespace {
struct priority_traits : default_traits {
    struct line_context_type {
        int priority = 0;
        friend auto operator==(const line_context_type&, const line_context_type&) -> bool = default;
    };
};
}  // namespace

TEST_CASE("a line deallocated by a shrink carries its caller's context, also after a rollback") {
    using product_type = basic_product<warehouse_first, priority_traits>;
    using event_type = events::basic_deallocated<priority_traits>;
    product_type p{sku{"LAMP"}};
    REQUIRE(p.add_batch(batch_ref{"b1"}, quantity{10}));
    REQUIRE(p.allocate({order_id{"o1"}, sku{"LAMP"}, quantity{4}, {.priority = 7}}));
    p.clear_events();
    p.checkpoint();
    REQUIRE(p.change_batch_quantity(batch_ref{"b1"}, quantity{2}));
    p.rollback();
    REQUIRE(p.find_line(order_id{"o1"}) != nullptr);
    CHECK(p.find_line(order_id{"o1"})->context.priority == 7);
    REQUIRE(p.change_batch_quantity(batch_ref{"b1"}, quantity{2}));
    const auto* e = std::get_if<event_type>(&p.events().back());
    REQUIRE(e != nullptr);
    CHECK(e->reason == deallocation_reason::batch_shrunk);
    CHECK(e->context.priority == 7);
}
}
}  // namespace product_tests
