// allocation — tests of allocation/domain/backorder.hpp: order policies (partial, backorder) and
// backorders filled as stock arrives.
// SPDX-License-Identifier: MIT
#include <allocation/domain/backorder.hpp>

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

namespace backorder_tests {
auto at(std::chrono::seconds s) -> timestamp { return timestamp{s}; }
auto line(const char* order, std::int64_t qty, const char* code = "DESK") -> order_line {
    return {order_id{order}, sku{code}, quantity{qty}};
}
auto allocated_qty(const product& p, const char* order) -> quantity {
    const auto* l = p.find_line(order_id{order});
    return l == nullptr ? quantity{} : l->qty;
}

TEST_SUITE("domain") {
TEST_CASE("a partial line takes what is available, split over batches, and leaves the rest") {
    product p{sku{"DESK"}};
    REQUIRE(p.add_batch(batch_ref{"a"}, quantity{3}));
    REQUIRE(p.add_batch(batch_ref{"b"}, quantity{4}, date{std::chrono::year{2030}, std::chrono::month{1}, std::chrono::day{1}}));
    p.clear_events();
    const auto r = p.allocate_available(line("o1", 10), order_policy::partial);
    REQUIRE(r);
    CHECK(r.value().allocated == std::vector<line_allocation>{{sku{"DESK"}, quantity{3}, batch_ref{"a"}},
                                                              {sku{"DESK"}, quantity{4}, batch_ref{"b"}}});
    CHECK(r.value().unallocated == quantity{3});
    CHECK(r.value().backordered == quantity{});
    CHECK(p.available() == quantity{});
    CHECK(all_events<events::allocated>(p).size() == 2);
    CHECK(p.backorder_count() == 0);
    SUBCASE("sent again it is answered with what it has") {
        const auto version = p.version();
        CHECK(p.allocate_available(line("o1", 10), order_policy::partial).value() == r.value());
        CHECK(p.version() == version);
    }
    SUBCASE("a line one batch can take whole is not split") {
        REQUIRE(p.add_batch(batch_ref{"c"}, quantity{5}));
        const auto whole = p.allocate_available(line("o2", 5), order_policy::partial);
        CHECK(whole.value().allocated == std::vector<line_allocation>{{sku{"DESK"}, quantity{5}, batch_ref{"c"}}});
    }
    SUBCASE("with nothing available nothing changes") {
        const auto version = p.version();
        const auto none = p.allocate_available(line("o3", 2), order_policy::partial);
        CHECK(none.value().allocated.empty());
        CHECK(none.value().unallocated == quantity{2});
        CHECK(p.version() == version);
        CHECK(p.find_line(order_id{"o3"}) == nullptr);
    }
}

TEST_CASE("a backordered line queues what it could not get and raises Backordered") {
    product p{sku{"DESK"}};
    REQUIRE(p.add_batch(batch_ref{"a"}, quantity{3}));
    const auto r = p.allocate_available(line("o1", 10), order_policy::backorder, 5);
    REQUIRE(r);
    CHECK(r.value().backordered == quantity{7});
    CHECK(p.find_backorder(order_id{"o1"}) == backorder{order_id{"o1"}, quantity{7}, 5, p.find_backorder(order_id{"o1"})->sequence});
    CHECK(all_events<events::backordered>(p) == std::vector<events::backordered>{{order_id{"o1"}, sku{"DESK"}, quantity{7}, 5}});
    SUBCASE("sent again it is answered with what it has") {
        CHECK(p.allocate_available(line("o1", 10), order_policy::backorder, 5).value() == r.value());
        CHECK(p.allocate_available(line("o1", 9), order_policy::backorder, 5).error() == errc::conflicting_resubmission);
    }
    SUBCASE("the line cannot be allocated or held besides") {
        CHECK(p.allocate(line("o1", 10)).error() == errc::conflicting_resubmission);
        CHECK(p.hold(line("o1", 10), at(10s), at(0s)).error() == errc::hold_conflict);
    }
}

TEST_CASE("backorders are filled as stock arrives: higher priority first, then earlier first") {
    product p{sku{"DESK"}};
    REQUIRE(p.allocate_available(line("low-early", 4), order_policy::backorder, 0));
    REQUIRE(p.allocate_available(line("high-late", 3), order_policy::backorder, 9));
    REQUIRE(p.allocate_available(line("low-late", 2), order_policy::backorder, 0));
    REQUIRE(p.backorders().size() == 3);
    CHECK(p.backorders()[0].order == order_id{"high-late"});
    CHECK(p.backorders()[1].order == order_id{"low-early"});
    p.clear_events();
    SUBCASE("a new batch fills them in that order, partly when only part is there") {
        REQUIRE(p.add_batch(batch_ref{"a"}, quantity{5}));
        CHECK(allocated_qty(p, "high-late") == quantity{3});
        CHECK(allocated_qty(p, "low-early") == quantity{2});
        CHECK(allocated_qty(p, "low-late") == quantity{});
        CHECK(p.find_backorder(order_id{"low-early"})->qty == quantity{2});
        CHECK(p.find_backorder(order_id{"high-late"}) == std::nullopt);
        CHECK(all_events<events::allocated>(p) ==
              std::vector<events::allocated>{{order_id{"high-late"}, sku{"DESK"}, quantity{3}, batch_ref{"a"}},
                                             {order_id{"low-early"}, sku{"DESK"}, quantity{2}, batch_ref{"a"}}});
        CHECK(p.available() == quantity{});
        SUBCASE("a quantity increase fills more") {
            REQUIRE(p.change_batch_quantity(batch_ref{"a"}, quantity{8}));
            CHECK(allocated_qty(p, "low-early") == quantity{4});
            CHECK(allocated_qty(p, "low-late") == quantity{1});
        }
        SUBCASE("a deallocation fills more") {
            REQUIRE(p.deallocate(order_id{"high-late"}));
            CHECK(allocated_qty(p, "low-early") == quantity{4});
            CHECK(allocated_qty(p, "low-late") == quantity{1});
        }
        SUBCASE("a cancelled backorder is not filled and what it had stays") {
            const auto cancelled = p.cancel_backorder(order_id{"low-early"});
            REQUIRE(cancelled);
            CHECK(cancelled.value().qty == quantity{2});
            CHECK(all_events<events::backorder_cancelled>(p).size() == 1);
            CHECK(allocated_qty(p, "low-early") == quantity{2});
            REQUIRE(p.change_batch_quantity(batch_ref{"a"}, quantity{6}));
            CHECK(allocated_qty(p, "low-late") == quantity{1});
            CHECK(p.cancel_backorder(order_id{"low-early"}).error() == errc::not_backordered);
        }
    }
    SUBCASE("a released hold fills them") {
        product q{sku{"DESK"}};
        REQUIRE(q.add_batch(batch_ref{"a"}, quantity{5}));
        REQUIRE(q.hold(line("cart", 5), at(60s), at(0s)));
        REQUIRE(q.allocate_available(line("wait", 2), order_policy::backorder));
        REQUIRE(q.release_hold(order_id{"cart"}, at(1s)));
        CHECK(allocated_qty(q, "wait") == quantity{2});
    }
    SUBCASE("an expired hold fills them at its deadline, before any sweep") {
        product q{sku{"DESK"}};
        REQUIRE(q.add_batch(batch_ref{"a"}, quantity{5}));
        REQUIRE(q.hold(line("cart", 5), at(60s), at(0s)));
        REQUIRE(q.allocate_available(line("wait", 2), order_policy::backorder));
        q.advance(at(59s));
        CHECK(allocated_qty(q, "wait") == quantity{});
        q.advance(at(60s));
        CHECK(allocated_qty(q, "wait") == quantity{2});
        CHECK(q.available() == quantity{3});
    }
}

TEST_CASE("the all-or-nothing policy allocates as allocate does") {
    product p{sku{"DESK"}};
    REQUIRE(p.add_batch(batch_ref{"a"}, quantity{3}));
    CHECK(p.allocate_available(line("o1", 4), order_policy::all_or_nothing).error() == errc::out_of_stock);
    CHECK(p.allocate_available(line("o1", 3), order_policy::all_or_nothing).value().allocated.size() == 1);
}

TEST_CASE("rolling back undoes backorders queued, filled and cancelled") {
    product p{sku{"DESK"}};
    REQUIRE(p.allocate_available(line("o1", 4), order_policy::backorder, 1));
    REQUIRE(p.allocate_available(line("o2", 4), order_policy::backorder, 0));
    const auto before = p.facts();
    p.checkpoint();
    REQUIRE(p.allocate_available(line("o3", 4), order_policy::backorder, 2));
    REQUIRE(p.add_batch(batch_ref{"a"}, quantity{6}));
    REQUIRE(p.cancel_backorder(order_id{"o2"}));
    CHECK(allocated_qty(p, "o3") == quantity{4});
    using kind = product::change::kind;
    CHECK(p.changes().front().what == kind::backorder_added);
    CHECK(p.tracked_backorder(p.changes().front()).priority == 2);
    p.rollback();
    CHECK(p.facts() == before);
    CHECK(p.batches().empty());
    CHECK(p.lines().size() == 0);
}

TEST_CASE("a product restored from its facts fills its backorders in the same order") {
    product p{sku{"DESK"}};
    REQUIRE(p.allocate_available(line("o1", 4), order_policy::backorder, 0));
    REQUIRE(p.allocate_available(line("o2", 4), order_policy::backorder, 3));
    product loaded{sku{"DESK"}};
    REQUIRE(loaded.restore(p.facts()));
    CHECK(loaded.backorders() == p.backorders());
    REQUIRE(loaded.add_batch(batch_ref{"a"}, quantity{5}));
    CHECK(allocated_qty(loaded, "o2") == quantity{4});
    CHECK(allocated_qty(loaded, "o1") == quantity{1});
    CHECK(loaded.allocate_available(line("o3", 1), order_policy::backorder).value().backordered == quantity{1});
    CHECK(loaded.find_backorder(order_id{"o3"})->sequence > loaded.find_backorder(order_id{"o1"})->sequence);
}
}
}  // namespace backorder_tests
