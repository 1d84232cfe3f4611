// allocation tests — what the durable stores run to show that they keep holds and backorders:
// placed through the product in a unit of work, committed, and read back by a second store on
// the same database (another process's view).
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_TESTS_ADAPTERS_HOLDS_SCENARIO_HPP
#define ALLOCATION_TESTS_ADAPTERS_HOLDS_SCENARIO_HPP

#include <chrono>    // minutes
#include <optional>  // optional, nullopt
#include <vector>    // vector

#include <doctest/doctest.h>

#include <allocation/domain/product.hpp>

namespace allocation::testing {

/// The time the scenario starts at; deadlines are minutes after it.
inline constexpr timestamp holds_t0{std::chrono::milliseconds{1'800'000'000'123}};

/// The facts of `code` as the store `s` loads them in a unit of work of its own (none when the
/// product is unknown).
template <class Store>
auto stored_facts(Store& s, const char* code) -> std::optional<product_facts> {
    auto uow = s.begin();
    auto* p = uow.products().get(sku{code}).value();
    if (p == nullptr) return std::nullopt;
    return p->facts();
}

/// `first` and `second` are two stores of allocation::product on one empty database. Holds
/// (with their deadlines to the millisecond, their lines and sequences) and backorders (with
/// their priorities) committed by `first` are what `second` loads; a hold confirmed, released or
/// swept after its deadline, and a backorder filled or cancelled, is gone after a reload, and a
/// backorder filled partly keeps its rest; nothing of a unit of work rolled back is kept.
template <class Store>
void check_holds_and_backorders_survive_reload(Store& first, Store& second) {
    using std::chrono::minutes;
    const auto t0 = holds_t0;
    {
        auto uow = first.begin();
        REQUIRE(uow.products().add(product{sku{"LAMP"}}));
        auto* p = uow.products().get(sku{"LAMP"}).value();
        REQUIRE(p->add_batch(batch_ref{"b1"}, quantity{10}));
        REQUIRE(uow.commit());
    }
    product_facts committed;
    {
        auto uow = first.begin();
        auto* p = uow.products().get(sku{"LAMP"}).value();
        REQUIRE(p->hold({order_id{"o1"}, sku{"LAMP"}, quantity{3}}, t0 + minutes(10), t0, 2));
        REQUIRE(p->hold({order_id{"o2"}, sku{"LAMP"}, quantity{2}}, t0 + minutes(5), t0));
        const auto partly = p->allocate_available({order_id{"o3"}, sku{"LAMP"}, quantity{20}}, order_policy::backorder, 1);
        REQUIRE(partly);
        CHECK(partly.value().backordered == quantity{15});
        REQUIRE(p->allocate_available({order_id{"o4"}, sku{"LAMP"}, quantity{4}}, order_policy::backorder, 5));
        committed = p->facts();
        REQUIRE(uow.commit());
    }
    REQUIRE(committed.holds.size() == 2);
    REQUIRE(committed.backorders.size() == 2);

    SUBCASE("a second store loads the same holds and backorders, and counts the held stock") {
        CHECK(stored_facts(second, "LAMP") == committed);
        const auto batch = second.read_batch(batch_ref{"b1"}).value();
        REQUIRE(batch);
        CHECK(batch->held == quantity{5});
        CHECK(batch->allocated == quantity{5});
        CHECK(batch->available() == quantity{0});
        auto uow = second.begin();
        auto* p = uow.products().get(sku{"LAMP"}).value();
        CHECK(p->batches()[0].held() == quantity{5});
        CHECK(p->available() == quantity{0});
        // The live hold of the same lines answers again; other lines are refused.
        const auto again = p->hold({order_id{"o1"}, sku{"LAMP"}, quantity{3}}, t0 + minutes(10), t0 + minutes(1), 2);
        REQUIRE(again);
        CHECK_FALSE(again.value().placed);
        CHECK(p->hold({order_id{"o1"}, sku{"LAMP"}, quantity{1}}, t0 + minutes(10), t0 + minutes(1)).error() ==
              errc::hold_conflict);
    }
    SUBCASE("a released and a confirmed hold are gone after a reload; the stock they free fills the backorders") {
        {
            auto uow = second.begin();
            auto* p = uow.products().get(sku{"LAMP"}).value();
            REQUIRE(p->release_hold(order_id{"o2"}, t0 + minutes(1)));
            const auto confirmed = p->confirm_hold(order_id{"o1"}, quantity{2}, t0 + minutes(1));
            REQUIRE(confirmed);
            CHECK(confirmed.value().batch == batch_ref{"b1"});
            committed = p->facts();
            REQUIRE(uow.commit());
        }
        CHECK(committed.holds.empty());
        const auto reloaded = stored_facts(first, "LAMP");
        CHECK(reloaded == committed);
        CHECK(first.read_allocations(order_id{"o1"}).value() ==
              std::vector<line_allocation>{{sku{"LAMP"}, quantity{2}, batch_ref{"b1"}}});
        // 2 released + 1 rest of the confirmed hold: o4 (priority 5) takes all 3 before o3.
        CHECK(first.read_allocations(order_id{"o4"}).value() ==
              std::vector<line_allocation>{{sku{"LAMP"}, quantity{3}, batch_ref{"b1"}}});
        CHECK(first.read_batch(batch_ref{"b1"}).value()->held == quantity{0});
        REQUIRE(reloaded);
        REQUIRE(reloaded->backorders.size() == 2);
        CHECK(reloaded->backorders[0].order == order_id{"o4"});
        CHECK(reloaded->backorders[0].qty == quantity{1});
    }
    SUBCASE("a reloaded product does not count a hold past its deadline, and its sweep is kept") {
        auto uow = second.begin();
        auto* p = uow.products().get(sku{"LAMP"}).value();
        // At o2's deadline its 2 units stop counting before any sweep: o4 (priority 5) takes them.
        p->advance(t0 + minutes(5));
        CHECK(p->batches()[0].held() == quantity{3});
        CHECK(p->find_backorder(order_id{"o4"})->qty == quantity{2});
        CHECK(p->expire_holds(t0 + minutes(5)) == 1);
        const auto h = p->hold({order_id{"o5"}, sku{"LAMP"}, quantity{1}}, t0 + minutes(20), t0 + minutes(5));
        CHECK(h.error() == errc::out_of_stock);
        committed = p->facts();
        REQUIRE(uow.commit());
        CHECK(stored_facts(first, "LAMP") == committed);
        REQUIRE(committed.holds.size() == 1);
        CHECK(committed.holds[0].order == order_id{"o1"});
        CHECK(first.read_batch(batch_ref{"b1"}).value()->held == quantity{3});
        CHECK(first.read_allocations(order_id{"o4"}).value() ==
              std::vector<line_allocation>{{sku{"LAMP"}, quantity{2}, batch_ref{"b1"}}});
    }
    SUBCASE("a hold placed after a reload is numbered after the restored holds and backorders") {
        {
            auto uow = second.begin();
            auto* p = uow.products().get(sku{"LAMP"}).value();
            REQUIRE(p->cancel_backorder(order_id{"o4"}));
            REQUIRE(p->cancel_backorder(order_id{"o3"}));
            REQUIRE(p->release_hold(order_id{"o1"}, t0 + minutes(1)));
            REQUIRE(p->hold({order_id{"o5"}, sku{"LAMP"}, quantity{2}}, t0 + minutes(20), t0 + minutes(1)));
            committed = p->facts();
            REQUIRE(uow.commit());
        }
        CHECK(stored_facts(first, "LAMP") == committed);
        REQUIRE(committed.holds.size() == 2);
        CHECK(committed.holds[0].order == order_id{"o2"});
        CHECK(committed.holds[1].order == order_id{"o5"});
        CHECK(committed.holds[1].sequence == 5);  // o1, o2, o3, o4 were 1 to 4
        CHECK(committed.backorders.empty());
    }
    SUBCASE("a backorder filled partly keeps its rest; one filled whole or cancelled is gone") {
        {
            auto uow = second.begin();
            auto* p = uow.products().get(sku{"LAMP"}).value();
            REQUIRE(p->add_batch(batch_ref{"b2"}, quantity{6}));  // o4 takes 4, o3 the other 2
            committed = p->facts();
            REQUIRE(uow.commit());
        }
        CHECK(stored_facts(first, "LAMP") == committed);
        REQUIRE(committed.backorders.size() == 1);
        CHECK(committed.backorders[0].order == order_id{"o3"});
        CHECK(committed.backorders[0].qty == quantity{13});
        CHECK(first.read_allocations(order_id{"o3"}).value() ==
              std::vector<line_allocation>{{sku{"LAMP"}, quantity{5}, batch_ref{"b1"}},
                                           {sku{"LAMP"}, quantity{2}, batch_ref{"b2"}}});
        {
            auto uow = first.begin();
            auto* p = uow.products().get(sku{"LAMP"}).value();
            REQUIRE(p->cancel_backorder(order_id{"o3"}));
            REQUIRE(uow.commit());
        }
        const auto reloaded = stored_facts(second, "LAMP");
        REQUIRE(reloaded);
        CHECK(reloaded->backorders.empty());
        CHECK(reloaded->holds == committed.holds);
    }
    SUBCASE("nothing of a unit of work rolled back is kept") {
        {
            auto uow = first.begin();
            auto* p = uow.products().get(sku{"LAMP"}).value();
            REQUIRE(p->cancel_backorder(order_id{"o3"}));
            REQUIRE(p->cancel_backorder(order_id{"o4"}));
            REQUIRE(p->release_hold(order_id{"o1"}, t0 + minutes(1)));
            REQUIRE(p->add_batch(batch_ref{"b2"}, quantity{1}));
            REQUIRE(p->hold({order_id{"o6"}, sku{"LAMP"}, quantity{1}}, t0 + minutes(9), t0 + minutes(1)));
            uow.rollback();
        }
        CHECK(stored_facts(second, "LAMP") == committed);
        CHECK(stored_facts(first, "LAMP") == committed);
        CHECK(second.read_batch(batch_ref{"b2"}).value() == std::nullopt);
    }
    SUBCASE("a new product committed with its holds and backorders has them after a reload") {
        {
            auto uow = first.begin();
            REQUIRE(uow.products().add(product{sku{"DESK"}}));
            auto* p = uow.products().get(sku{"DESK"}).value();
            REQUIRE(p->add_batch(batch_ref{"d1"}, quantity{4}));
            REQUIRE(p->hold({order_id{"o7"}, sku{"DESK"}, quantity{3}}, t0 + minutes(3), t0));
            REQUIRE(p->allocate_available({order_id{"o8"}, sku{"DESK"}, quantity{5}}, order_policy::backorder, 2));
            committed = p->facts();
            REQUIRE(uow.commit());
        }
        REQUIRE(committed.holds.size() == 1);
        REQUIRE(committed.backorders.size() == 1);
        CHECK(stored_facts(second, "DESK") == committed);
        CHECK(second.read_batch(batch_ref{"d1"}).value()->held == quantity{3});
    }
}

}  // namespace allocation::testing

#endif  // ALLOCATION_TESTS_ADAPTERS_HOLDS_SCENARIO_HPP
