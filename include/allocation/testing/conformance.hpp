// allocation — the adapter conformance kit: doctest suites that any Repository / UnitOfWork
// adapter runs to show it keeps the ports' promises.
// SPDX-License-Identifier: MIT
//
// Include this header in one test source of your adapter (after doctest) and instantiate the
// suites with a harness type that makes fresh stores:
//
//     struct my_harness {
//         using store_type = my::store;                      // a unit_of_work_factory
//         auto make() -> std::unique_ptr<store_type>;        // a new, empty store
//         // optional: a second store on the same storage (another process, a restart)
//         auto reopen(store_type&) -> std::unique_ptr<store_type>;
//     };
//     TEST_CASE_TEMPLATE_INVOKE(allocation_repository_conformance, my_harness);
//     TEST_CASE_TEMPLATE_INVOKE(allocation_unit_of_work_conformance, my_harness);
//     TEST_CASE_TEMPLATE_INVOKE(allocation_idempotency_conformance, my_harness);
//     TEST_CASE_TEMPLATE_INVOKE(allocation_concurrency_conformance, my_harness);
//
// The store must make a second unit of work that asks for a product held by another fail with
// errc::conflict at once (a lock timeout of 0) or at commit (optimistic versions). Suites that
// need the inbox capability (records_processed_messages) or reopen() skip those parts when the
// adapter lacks them.
#ifndef ALLOCATION_TESTING_CONFORMANCE_HPP
#define ALLOCATION_TESTING_CONFORMANCE_HPP

#include <atomic>   // atomic
#include <cstddef>  // size_t
#include <memory>   // unique_ptr
#include <string>   // string
#include <thread>   // thread
#include <vector>   // vector

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <allocation/bus/bootstrap.hpp>
#include <allocation/bus/handlers.hpp>
#include <allocation/bus/message_bus.hpp>
#include <allocation/domain/commands.hpp>
#include <allocation/domain/events.hpp>
#include <allocation/error.hpp>
#include <allocation/ports/inbox.hpp>
#include <allocation/ports/unit_of_work.hpp>

namespace allocation::testing {

/// The types a harness's store works with.
template <class Harness>
struct kit_types {
    using store_type = typename Harness::store_type;
    using uow_type = unit_of_work_t<store_type>;
    using product_type = product_t<uow_type>;
    using traits = typename product_type::traits_type;
    using sku_type = typename traits::sku_type;
    using batch_ref_type = typename traits::batch_ref_type;
    using order_id_type = typename traits::order_id_type;
    using quantity_type = typename traits::quantity_type;
};

/// Whether the harness can open a second store on the same storage.
template <class Harness>
concept reopens = requires(Harness& h, typename Harness::store_type& s) {
    { h.reopen(s) };
};

/// Commits a product `code` with one warehouse batch per entry of `batches` (reference, units).
template <class Store, class Sku>
void seed(Store& store, const Sku& code,
          std::initializer_list<std::pair<const char*, std::int64_t>> batches) {
    using product_type = product_t<unit_of_work_t<Store>>;
    using traits = typename product_type::traits_type;
    auto uow = store.begin();
    auto found = uow.products().get(code);
    REQUIRE(found);
    product_type* p = found.value();
    if (p == nullptr) {
        REQUIRE(uow.products().add(product_type{code}));
        p = uow.products().get(code).value();
    }
    for (const auto& [ref, units] : batches) {
        REQUIRE(p->add_batch(typename traits::batch_ref_type{ref},
                             allocation::detail::make_quantity<typename traits::quantity_type>(units)));
    }
    REQUIRE(uow.commit());
    (void)uow.collect_new_events();
}

/// The units allocated over every batch of a committed product (-1 when unknown).
template <class Store, class Sku>
auto allocated_units(Store& store, const Sku& code) -> std::int64_t {
    auto uow = store.begin();
    auto found = uow.products().get(code);
    if (!found || found.value() == nullptr) return -1;
    std::int64_t total = 0;
    for (const auto& b : found.value()->batches()) {
        total += allocation::detail::count(b.allocated());
        CHECK(b.allocated() <= b.purchased());
    }
    return total;
}

}  // namespace allocation::testing

TEST_CASE_TEMPLATE_DEFINE("an adapter's repository finds products by SKU and by batch reference", Harness,
                          allocation_repository_conformance) {
    using namespace allocation;
    using t = testing::kit_types<Harness>;
    Harness harness;
    auto store = harness.make();
    REQUIRE(store);
    testing::seed(*store, typename t::sku_type{"LAMP"}, {{"lamp-1", 10}, {"lamp-2", 5}});

    SUBCASE("a known SKU gives its product, with its batches in insertion order") {
        auto uow = store->begin();
        auto found = uow.products().get(typename t::sku_type{"LAMP"});
        REQUIRE(found);
        REQUIRE(found.value() != nullptr);
        const auto batches = found.value()->batches();
        REQUIRE(batches.size() == 2);
        CHECK(batches[0].ref() == typename t::batch_ref_type{"lamp-1"});
        CHECK(batches[1].ref() == typename t::batch_ref_type{"lamp-2"});
        CHECK(batches[1].purchased() == allocation::detail::make_quantity<typename t::quantity_type>(5));
    }
    SUBCASE("an unknown SKU gives no product") {
        auto uow = store->begin();
        auto found = uow.products().get(typename t::sku_type{"NOPE"});
        REQUIRE(found);
        CHECK(found.value() == nullptr);
    }
    SUBCASE("a batch reference gives the product owning it, an unknown one none") {
        auto uow = store->begin();
        auto found = uow.products().get_by_batch_ref(typename t::batch_ref_type{"lamp-2"});
        REQUIRE(found);
        REQUIRE(found.value() != nullptr);
        CHECK(found.value()->sku() == typename t::sku_type{"LAMP"});
        auto none = uow.products().get_by_batch_ref(typename t::batch_ref_type{"nope"});
        REQUIRE(none);
        CHECK(none.value() == nullptr);
    }
    SUBCASE("a product added in a unit of work is found by it before commit, and by others after") {
        auto uow = store->begin();
        REQUIRE(uow.products().add(typename t::product_type{typename t::sku_type{"DESK"}}));
        auto mine = uow.products().get(typename t::sku_type{"DESK"});
        REQUIRE(mine);
        REQUIRE(mine.value() != nullptr);
        REQUIRE(mine.value()->add_batch(typename t::batch_ref_type{"desk-1"},
                                        allocation::detail::make_quantity<typename t::quantity_type>(3)));
        REQUIRE(uow.commit());
        auto other = store->begin();
        auto found = other.products().get_by_batch_ref(typename t::batch_ref_type{"desk-1"});
        REQUIRE(found);
        REQUIRE(found.value() != nullptr);
        CHECK(found.value()->sku() == typename t::sku_type{"DESK"});
    }
    SUBCASE("adding a SKU that exists fails") {
        auto uow = store->begin();
        CHECK_FALSE(uow.products().add(typename t::product_type{typename t::sku_type{"LAMP"}}));
    }
    SUBCASE("every product handed out is seen") {
        testing::seed(*store, typename t::sku_type{"CHAIR"}, {{"chair-1", 1}});
        auto uow = store->begin();
        REQUIRE(uow.products().get(typename t::sku_type{"LAMP"}));
        REQUIRE(uow.products().get(typename t::sku_type{"CHAIR"}));
        std::size_t n = 0;
        for (auto* p : uow.products().seen()) n += p != nullptr ? 1u : 0u;
        CHECK(n == 2);
    }
}

TEST_CASE_TEMPLATE_DEFINE("an adapter's unit of work commits all or nothing", Harness,
                          allocation_unit_of_work_conformance) {
    using namespace allocation;
    using t = testing::kit_types<Harness>;
    using cmd_allocate = commands::basic_allocate<typename t::traits>;
    using cmd_order = commands::basic_allocate_order<typename t::traits>;
    const typename t::sku_type lamp{"LAMP"};
    const auto q = [](std::int64_t n) { return allocation::detail::make_quantity<typename t::quantity_type>(n); };
    Harness harness;
    auto store = harness.make();
    REQUIRE(store);
    testing::seed(*store, lamp, {{"lamp-1", 10}});

    SUBCASE("a unit of work ended without commit changes nothing") {
        {
            auto uow = store->begin();
            auto p = uow.products().get(lamp).value();
            REQUIRE(p->allocate({typename t::order_id_type{"o1"}, lamp, q(4)}));
        }
        CHECK(testing::allocated_units(*store, lamp) == 0);
    }
    SUBCASE("a unit of work rolled back after an error keeps nothing of the command") {
        auto uow = store->begin();
        const cmd_order order{typename t::order_id_type{"o1"},
                              {{lamp, q(2)}, {typename t::sku_type{"NOPE"}, q(1)}}};
        const auto r = handlers::allocate_order(order, uow);
        REQUIRE_FALSE(r);
        CHECK(r.error() == errc::invalid_sku);
        uow.rollback();
        CHECK(uow.collect_new_events().empty());
        CHECK(testing::allocated_units(*store, lamp) == 0);
    }
    SUBCASE("committed changes are seen by the next unit of work") {
        auto uow = store->begin();
        REQUIRE(handlers::allocate(cmd_allocate{typename t::order_id_type{"o1"}, lamp, q(4)}, uow));
        CHECK(testing::allocated_units(*store, lamp) == 4);
        if constexpr (testing::reopens<Harness>) {
            auto again = harness.reopen(*store);
            REQUIRE(again);
            CHECK(testing::allocated_units(*again, lamp) == 4);
        }
    }
    SUBCASE("the version a commit writes increases") {
        std::uint64_t before = 0;
        {
            auto uow = store->begin();
            before = uow.products().get(lamp).value()->version();
            REQUIRE(handlers::allocate(cmd_allocate{typename t::order_id_type{"o1"}, lamp, q(1)}, uow));
        }
        auto uow = store->begin();
        CHECK(uow.products().get(lamp).value()->version() > before);
    }
    SUBCASE("events are collected once, after the commit only") {
        auto uow = store->begin();
        auto p = uow.products().get(lamp).value();
        REQUIRE(p->allocate({typename t::order_id_type{"o1"}, lamp, q(1)}));
        CHECK(uow.collect_new_events().empty());
        REQUIRE(uow.commit());
        const auto first = uow.collect_new_events();
        REQUIRE(first.size() == 1);
        CHECK(std::holds_alternative<events::basic_allocated<typename t::traits>>(first.front()));
        CHECK(uow.collect_new_events().empty());
        auto again = store->begin();
        CHECK(again.collect_new_events().empty());
    }
    SUBCASE("events of a unit of work rolled back are never collected") {
        auto uow = store->begin();
        auto p = uow.products().get(lamp).value();
        REQUIRE(p->allocate({typename t::order_id_type{"o1"}, lamp, q(1)}));
        uow.rollback();
        REQUIRE(uow.commit());
        CHECK(uow.collect_new_events().empty());
    }
    SUBCASE("two units of work changing one product: the second meets a conflict") {
        const auto race = [&](auto& other_store) {
            auto first = store->begin();
            auto p1 = first.products().get(lamp);
            REQUIRE(p1);
            REQUIRE(p1.value()->allocate({typename t::order_id_type{"o1"}, lamp, q(6)}));
            auto second = other_store.begin();
            auto p2 = second.products().get(lamp);
            if (!p2) {  // pessimistic: the product is held by the first
                CHECK(p2.error() == errc::conflict);
                REQUIRE(first.commit());
            } else {  // optimistic: the second commit finds another version
                REQUIRE(p2.value() != nullptr);
                REQUIRE(p2.value()->allocate({typename t::order_id_type{"o2"}, lamp, q(6)}));
                REQUIRE(first.commit());
                const auto r = second.commit();
                REQUIRE_FALSE(r);
                CHECK(r.error() == errc::conflict);
            }
        };
        SUBCASE("in one store") { race(*store); }
        if constexpr (testing::reopens<Harness>) {
            SUBCASE("in two stores on the same storage") {
                auto other = harness.reopen(*store);
                REQUIRE(other);
                race(*other);
                CHECK(testing::allocated_units(*other, lamp) == 6);
            }
        }
        CHECK(testing::allocated_units(*store, lamp) == 6);
    }
    SUBCASE("the message bus retries a conflict until the product is free") {
        auto bus = bootstrap(*store, bootstrap_options{.retry = {.attempts = 30, .backoff = std::chrono::microseconds{100}},
                                                       .log = [](std::string_view) {}});
        auto holder = store->begin();
        REQUIRE(holder.products().get(lamp));
        result<typename t::batch_ref_type> r{errc::storage_error};
        std::thread worker([&] { r = bus.handle(cmd_allocate{typename t::order_id_type{"o1"}, lamp, q(2)}); });
        std::this_thread::sleep_for(std::chrono::milliseconds{5});
        holder.rollback();
        worker.join();
        CHECK(r);
        CHECK(testing::allocated_units(*store, lamp) == 2);
    }
}

TEST_CASE_TEMPLATE_DEFINE("an adapter answers a command sent again without doing it twice", Harness,
                          allocation_idempotency_conformance) {
    using namespace allocation;
    using t = testing::kit_types<Harness>;
    using cmd_allocate = commands::basic_allocate<typename t::traits>;
    using cmd_deallocate = commands::basic_deallocate<typename t::traits>;
    using cmd_order = commands::basic_allocate_order<typename t::traits>;
    const typename t::sku_type lamp{"LAMP"};
    const typename t::order_id_type o1{"o1"};
    const auto q = [](std::int64_t n) { return allocation::detail::make_quantity<typename t::quantity_type>(n); };
    Harness harness;
    auto store = harness.make();
    REQUIRE(store);
    testing::seed(*store, lamp, {{"lamp-1", 10}});
    auto bus = bootstrap(*store);
    int allocated_events = 0;
    bus.template on<events::basic_allocated<typename t::traits>>([&](const auto&) { ++allocated_events; });

    SUBCASE("an allocated line sent again gets its batch, with no second allocation or event") {
        const auto first = bus.handle(cmd_allocate{o1, lamp, q(3)});
        const auto again = bus.handle(cmd_allocate{o1, lamp, q(3)});
        REQUIRE(first);
        REQUIRE(again);
        CHECK(first.value() == again.value());
        CHECK(allocated_events == 1);
        CHECK(testing::allocated_units(*store, lamp) == 3);
    }
    SUBCASE("an allocated line sent again with another quantity is refused") {
        REQUIRE(bus.handle(cmd_allocate{o1, lamp, q(3)}));
        const auto again = bus.handle(cmd_allocate{o1, lamp, q(4)});
        REQUIRE_FALSE(again);
        CHECK(again.error() == errc::conflicting_resubmission);
        CHECK(testing::allocated_units(*store, lamp) == 3);
    }
    if constexpr (records_processed_messages<typename t::uow_type>) {
        SUBCASE("a message id processed before is answered with its stored result, stock untouched") {
            cmd_allocate cmd{o1, lamp, q(3)};
            cmd.message_id = "m-1";
            const auto first = bus.handle(cmd);
            REQUIRE(first);
            REQUIRE(bus.handle(cmd_deallocate{o1, lamp, {}}));
            const auto again = bus.handle(cmd);
            REQUIRE(again);
            CHECK(again.value() == first.value());
            CHECK(testing::allocated_units(*store, lamp) == 0);
            if constexpr (testing::reopens<Harness>) {
                auto reopened = harness.reopen(*store);
                REQUIRE(reopened);
                auto bus2 = bootstrap(*reopened);
                const auto after_restart = bus2.handle(cmd);
                REQUIRE(after_restart);
                CHECK(after_restart.value() == first.value());
                CHECK(testing::allocated_units(*reopened, lamp) == 0);
            }
        }
        SUBCASE("an order's message id processed before is answered with its stored allocations") {
            cmd_order order{typename t::order_id_type{"o2"}, {{lamp, q(2)}}};
            order.message_id = "m-2";
            const auto first = bus.handle(order);
            REQUIRE(first);
            REQUIRE(bus.handle(cmd_deallocate{typename t::order_id_type{"o2"}, lamp, {}}));
            const auto again = bus.handle(order);
            REQUIRE(again);
            CHECK(again.value() == first.value());
            CHECK(testing::allocated_units(*store, lamp) == 0);
        }
        SUBCASE("an out-of-stock answer is stored too") {
            cmd_allocate cmd{o1, lamp, q(11)};
            cmd.message_id = "m-3";
            const auto first = bus.handle(cmd);
            REQUIRE_FALSE(first);
            CHECK(first.error() == errc::out_of_stock);
            testing::seed(*store, lamp, {{"lamp-2", 20}});
            const auto again = bus.handle(cmd);
            REQUIRE_FALSE(again);
            CHECK(again.error() == errc::out_of_stock);
        }
    }
}

TEST_CASE_TEMPLATE_DEFINE("an adapter's concurrent writers never oversell", Harness,
                          allocation_concurrency_conformance) {
    using namespace allocation;
    using t = testing::kit_types<Harness>;
    using cmd_allocate = commands::basic_allocate<typename t::traits>;
    const typename t::sku_type lamp{"LAMP"};
    Harness harness;
    auto store = harness.make();
    REQUIRE(store);
    testing::seed(*store, lamp, {{"lamp-1", 30}, {"lamp-2", 30}});
    auto bus = bootstrap(*store, bootstrap_options{.retry = {.attempts = 40, .backoff = std::chrono::microseconds{1}},
                                                   .log = [](std::string_view) {}});
    constexpr int threads = 4;
    constexpr int per_thread = 25;
    std::atomic<int> allocated{0};
    std::atomic<int> refused{0};
    std::vector<std::thread> pool;
    for (int i = 0; i < threads; ++i) {
        pool.emplace_back([&, i] {
            for (int n = 0; n < per_thread; ++n) {
                const auto r = bus.handle(cmd_allocate{typename t::order_id_type{fmt::format("t{}-{}", i, n)}, lamp,
                                                       allocation::detail::make_quantity<typename t::quantity_type>(1)});
                if (r) {
                    ++allocated;
                } else {
                    ++refused;
                }
            }
        });
    }
    for (auto& th : pool) th.join();
    CHECK(allocated.load() + refused.load() == threads * per_thread);
    CHECK(allocated.load() == 60);
    CHECK(testing::allocated_units(*store, lamp) == allocated.load());
}

#endif  // ALLOCATION_TESTING_CONFORMANCE_HPP
