// allocation — tests of allocation/adapters/memory/unit_of_work.hpp: rollback by default,
// commit visibility, one writer per product, and events collected once.
// SPDX-License-Identifier: MIT
#include <allocation/adapters/memory/unit_of_work.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <variant>

using namespace allocation;
using namespace std::chrono_literals;

namespace unit_of_work_tests {

using store_type = memory::store;

// A store holding product LAMP with batch b1 of 10 units, committed.
void seed(store_type& store) {
    auto uow = store.begin();
    REQUIRE(uow.products().add(product{sku{"LAMP"}}));
    product* p = uow.products().get(sku{"LAMP"}).value();
    REQUIRE(p != nullptr);
    REQUIRE(p->add_batch(batch_ref{"b1"}, quantity{10}));
    REQUIRE(uow.commit());
}

auto line(const char* order, std::int64_t qty, const char* code = "LAMP") -> basic_order_line<default_traits> {
    return {order_id{order}, sku{code}, quantity{qty}};
}

// The committed available quantity and version of a SKU.
auto committed(store_type& store, const char* code) -> std::pair<std::int64_t, std::uint64_t> {
    std::pair<std::int64_t, std::uint64_t> out{-1, 0};
    REQUIRE(store.read(sku{code}, [&](const product& p) { out = {p.available().value, p.version()}; }));
    return out;
}


TEST_SUITE("memory") {

TEST_CASE("a unit of work destroyed without commit leaves the store as it was") {
    store_type store;
    seed(store);
    {
        auto uow = store.begin();
        product* p = uow.products().get(sku{"LAMP"}).value();
        REQUIRE(p->allocate(line("o1", 3)));
        REQUIRE(p->add_batch(batch_ref{"b2"}, quantity{5}));
        REQUIRE(p->change_batch_quantity(batch_ref{"b1"}, quantity{7}));
        REQUIRE(uow.products().add(product{sku{"DESK"}}));
    }
    CHECK(committed(store, "LAMP") == std::pair<std::int64_t, std::uint64_t>{10, 1});
    CHECK(store.size() == 1);
    auto uow = store.begin();
    const product* p = uow.products().get(sku{"LAMP"}).value();
    CHECK(p->find_line(order_id{"o1"}) == nullptr);
    CHECK(p->find_batch(batch_ref{"b2"}) == nullptr);
    CHECK(p->find_batch(batch_ref{"b1"})->purchased() == quantity{10});
    CHECK(uow.products().get(sku{"DESK"}).value() == nullptr);
    CHECK(uow.products().get_by_batch_ref(batch_ref{"b2"}).value() == nullptr);
}

TEST_CASE("an explicit rollback undoes the changes and lets the product go") {
    store_type store{0ms};
    seed(store);
    auto uow = store.begin();
    product* p = uow.products().get(sku{"LAMP"}).value();
    REQUIRE(p->allocate(line("o1", 3)));
    uow.rollback();
    CHECK(uow.collect_new_events().empty());
    auto other = store.begin();  // not held any more: no conflict even with no wait
    const auto again = other.products().get(sku{"LAMP"});
    REQUIRE(again);
    CHECK(again.value()->available() == quantity{10});
    CHECK(again.value()->version() == 1);
    CHECK(again.value()->events().empty());
}

TEST_CASE("what one unit of work commits, the next one sees") {
    store_type store;
    seed(store);
    {
        auto uow = store.begin();
        product* p = uow.products().get(sku{"LAMP"}).value();
        REQUIRE(p->allocate(line("o1", 3)));
        REQUIRE(uow.commit());
    }
    CHECK(committed(store, "LAMP") == std::pair<std::int64_t, std::uint64_t>{7, 2});
    auto uow = store.begin();
    const product* p = uow.products().get(sku{"LAMP"}).value();
    REQUIRE(p->find_line(order_id{"o1"}) != nullptr);
    CHECK(p->find_line(order_id{"o1"})->qty == quantity{3});
}

TEST_CASE("a unit of work can be used again after a commit or a rollback") {
    store_type store{0ms};
    seed(store);
    auto uow = store.begin();
    REQUIRE(uow.products().get(sku{"LAMP"}).value()->allocate(line("o1", 3)));
    SUBCASE("after a commit") {
        REQUIRE(uow.commit());
        REQUIRE(uow.products().get(sku{"LAMP"}).value()->allocate(line("o2", 2)));
        REQUIRE(uow.commit());
        CHECK(committed(store, "LAMP") == std::pair<std::int64_t, std::uint64_t>{5, 3});
    }
    SUBCASE("after a rollback") {
        uow.rollback();
        REQUIRE(uow.products().get(sku{"LAMP"}).value()->allocate(line("o2", 2)));
        REQUIRE(uow.commit());
        CHECK(committed(store, "LAMP") == std::pair<std::int64_t, std::uint64_t>{8, 2});
    }
}

TEST_CASE("a product held by one unit of work is a conflict for another after the lock timeout") {
    store_type store{0ms};
    seed(store);
    auto first = store.begin();
    product* p = first.products().get(sku{"LAMP"}).value();
    REQUIRE(p->allocate(line("o1", 3)));

    auto second = store.begin();
    const auto held = second.products().get(sku{"LAMP"});
    REQUIRE_FALSE(held);
    CHECK(held.error() == errc::conflict);
    const auto by_ref = second.products().get_by_batch_ref(batch_ref{"b1"});
    REQUIRE_FALSE(by_ref);
    CHECK(by_ref.error() == errc::conflict);
    CHECK_FALSE(store.read(sku{"LAMP"}, [](const product&) {}));

    SUBCASE("and free again once the first commits") {
        REQUIRE(first.commit());
        const auto now = second.products().get(sku{"LAMP"});
        REQUIRE(now);
        CHECK(now.value()->available() == quantity{7});
    }
    SUBCASE("and free again once the first rolls back") {
        first.rollback();
        const auto now = second.products().get(sku{"LAMP"});
        REQUIRE(now);
        CHECK(now.value()->available() == quantity{10});
    }
}

TEST_CASE("the same unit of work gets the same product twice without waiting for itself") {
    store_type store{0ms};
    seed(store);
    auto uow = store.begin();
    product* a = uow.products().get(sku{"LAMP"}).value();
    product* b = uow.products().get(sku{"LAMP"}).value();
    product* c = uow.products().get_by_batch_ref(batch_ref{"b1"}).value();
    CHECK(a == b);
    CHECK(a == c);
    CHECK(uow.products().seen().size() == 1);
}

TEST_CASE("new products and batch references are seen by others only after commit") {
    store_type store{0ms};
    auto uow = store.begin();
    REQUIRE(uow.products().add(product{sku{"DESK"}}));
    product* desk = uow.products().get(sku{"DESK"}).value();
    REQUIRE(desk != nullptr);
    REQUIRE(desk->add_batch(batch_ref{"d1"}, quantity{4}));
    CHECK(uow.products().get_by_batch_ref(batch_ref{"d1"}).value() == desk);

    {
        auto other = store.begin();
        CHECK(other.products().get(sku{"DESK"}).value() == nullptr);
        CHECK(other.products().get_by_batch_ref(batch_ref{"d1"}).value() == nullptr);
        CHECK(store.size() == 0);
    }
    REQUIRE(uow.commit());
    CHECK(store.size() == 1);
    auto other = store.begin();
    const product* seen = other.products().get_by_batch_ref(batch_ref{"d1"}).value();
    REQUIRE(seen != nullptr);
    CHECK(seen->sku() == sku{"DESK"});
    CHECK(seen->available() == quantity{4});

    SUBCASE("a batch added to a known product is found by its reference after commit") {
        product* p = other.products().get(sku{"DESK"}).value();
        REQUIRE(p->add_batch(batch_ref{"d2"}, quantity{1}));
        {
            auto third = store.begin();
            (void)third;  // d2 is not known to the store yet
        }
        REQUIRE(other.commit());
        auto third = store.begin();
        const product* q = third.products().get_by_batch_ref(batch_ref{"d2"}).value();
        REQUIRE(q != nullptr);
        CHECK(q->sku() == sku{"DESK"});
    }
}

TEST_CASE("a product added twice is refused") {
    store_type store;
    seed(store);
    auto uow = store.begin();
    SUBCASE("when the store has it") { CHECK(uow.products().add(product{sku{"LAMP"}}).error() == errc::duplicate_product); }
    SUBCASE("when the unit of work added it") {
        REQUIRE(uow.products().add(product{sku{"DESK"}}));
        CHECK(uow.products().add(product{sku{"DESK"}}).error() == errc::duplicate_product);
    }
}

TEST_CASE("two units of work creating the same new product: the second commit is a conflict to retry") {
    store_type store{0ms};
    auto first = store.begin();
    auto second = store.begin();
    REQUIRE(first.products().add(product{sku{"DESK"}}));
    REQUIRE(first.products().get(sku{"DESK"}).value()->add_batch(batch_ref{"d1"}, quantity{4}));
    REQUIRE(second.products().add(product{sku{"DESK"}}));
    REQUIRE(second.products().get(sku{"DESK"}).value()->add_batch(batch_ref{"d2"}, quantity{6}));
    REQUIRE(first.commit());
    const auto r = second.commit();
    REQUIRE_FALSE(r);
    // Retrying (as the message bus does on a conflict) gets the product the first created.
    CHECK(r.error() == errc::conflict);
    CHECK(second.collect_new_events().empty());
    CHECK(committed(store, "DESK") == std::pair<std::int64_t, std::uint64_t>{4, 1});
    auto check = store.begin();
    CHECK(check.products().get_by_batch_ref(batch_ref{"d2"}).value() == nullptr);
}

TEST_CASE("a batch reference already used by another SKU is refused at commit, and nothing is kept") {
    store_type store{0ms};
    seed(store);  // LAMP has b1
    auto uow = store.begin();
    SUBCASE("on a new product") {
        REQUIRE(uow.products().add(product{sku{"DESK"}}));
        REQUIRE(uow.products().get(sku{"DESK"}).value()->add_batch(batch_ref{"b1"}, quantity{4}));
    }
    SUBCASE("on a known product") {
        {
            auto setup = store.begin();
            REQUIRE(setup.products().add(product{sku{"DESK"}}));
            REQUIRE(setup.products().get(sku{"DESK"}).value()->add_batch(batch_ref{"d1"}, quantity{1}));
            REQUIRE(setup.commit());
        }
        REQUIRE(uow.products().get(sku{"DESK"}).value()->add_batch(batch_ref{"b1"}, quantity{4}));
    }
    SUBCASE("by two units of work at once") {
        auto other = store.begin();
        REQUIRE(other.products().add(product{sku{"CHAIR"}}));
        REQUIRE(other.products().get(sku{"CHAIR"}).value()->add_batch(batch_ref{"x1"}, quantity{2}));
        REQUIRE(uow.products().add(product{sku{"DESK"}}));
        REQUIRE(uow.products().get(sku{"DESK"}).value()->add_batch(batch_ref{"x1"}, quantity{4}));
        REQUIRE(other.commit());
    }
    // Also a change to LAMP in the same unit of work, which must not be kept either.
    product* lamp = uow.products().get(sku{"LAMP"}).value();
    REQUIRE(lamp->allocate(line("o1", 1)));

    const auto r = uow.commit();
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::duplicate_batch);
    CHECK(uow.collect_new_events().empty());
    CHECK(committed(store, "LAMP") == std::pair<std::int64_t, std::uint64_t>{10, 1});
    auto check = store.begin();
    const product* owner = check.products().get_by_batch_ref(batch_ref{"b1"}).value();
    REQUIRE(owner != nullptr);
    CHECK(owner->sku() == sku{"LAMP"});
    if (const auto desk = check.products().get(sku{"DESK"}); desk.value() != nullptr) {
        CHECK(desk.value()->find_batch(batch_ref{"b1"}) == nullptr);
    }
}

TEST_CASE("committed events are collected once, in the order they were raised") {
    store_type store;
    seed(store);
    auto uow = store.begin();
    REQUIRE(uow.collect_new_events().empty());  // seed's unit of work had them, not this one
    product* p = uow.products().get(sku{"LAMP"}).value();
    REQUIRE(p->allocate(line("o1", 3)));
    REQUIRE(p->allocate(line("o2", 30)).error() == errc::out_of_stock);
    CHECK(uow.collect_new_events().empty());  // nothing committed yet
    REQUIRE(uow.commit());

    const auto first = uow.collect_new_events();
    REQUIRE(first.size() == 2);
    CHECK(std::get<events::allocated>(first[0]) ==
          events::allocated{order_id{"o1"}, sku{"LAMP"}, quantity{3}, batch_ref{"b1"}});
    CHECK(std::holds_alternative<events::out_of_stock>(first[1]));
    CHECK(uow.collect_new_events().empty());

    // The product does not keep them for the next unit of work either.
    auto next = store.begin();
    CHECK(next.products().get(sku{"LAMP"}).value()->events().empty());
    REQUIRE(next.commit());
    CHECK(next.collect_new_events().empty());
}

TEST_CASE("events of rolled back changes are never collected") {
    store_type store;
    seed(store);
    {
        auto uow = store.begin();
        REQUIRE(uow.products().get(sku{"LAMP"}).value()->allocate(line("o1", 3)));
    }
    auto uow = store.begin();
    REQUIRE(uow.products().get(sku{"LAMP"}).value()->allocate(line("o2", 1)));
    REQUIRE(uow.commit());
    const auto events = uow.collect_new_events();
    REQUIRE(events.size() == 1);
    CHECK(std::get<events::allocated>(events[0]).order == order_id{"o2"});
}

}  // TEST_SUITE("memory")
}  // namespace unit_of_work_tests
