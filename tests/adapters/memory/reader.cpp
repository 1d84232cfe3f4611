// allocation — tests of allocation/adapters/memory/reader.hpp: the in-memory store's reads of
// committed state, which never wait for a unit of work.
// SPDX-License-Identifier: MIT
#include <allocation/adapters/memory/reader.hpp>

#include <doctest/doctest.h>

#include <allocation/adapters/memory/store.hpp>

using namespace allocation;

namespace {

void seed(memory::store& store) {
    auto uow = store.begin();
    REQUIRE(uow.products().add(product{sku{"LAMP"}}));
    product* p = uow.products().get(sku{"LAMP"}).value();
    REQUIRE(p->add_batch(batch_ref{"ship"}, quantity{5}, date{std::chrono::year{2030}, std::chrono::month{1}, std::chrono::day{2}}));
    REQUIRE(p->add_batch(batch_ref{"shelf"}, quantity{10}));
    REQUIRE(p->allocate({order_id{"o1"}, sku{"LAMP"}, quantity{3}}));
    REQUIRE(uow.commit());
}

}  // namespace

TEST_SUITE("memory") {

TEST_CASE("the memory store reads a committed product with its batches in preference order") {
    memory::store store;
    seed(store);
    const auto state = store.read_product(sku{"LAMP"});
    REQUIRE(state);
    REQUIRE(state.value());
    CHECK(state.value()->version == 3);  // two batches added, one line allocated
    CHECK(state.value()->available == quantity{12});
    REQUIRE(state.value()->batches.size() == 2);
    CHECK(state.value()->batches[0].ref == batch_ref{"shelf"});
    CHECK(state.value()->batches[0].allocated == quantity{3});
    CHECK(state.value()->batches[1].ref == batch_ref{"ship"});
    CHECK_FALSE(store.read_product(sku{"NOPE"}).value());
}

TEST_CASE("the memory store reads a batch by reference and the allocations of an order") {
    memory::store store;
    seed(store);
    const auto b = store.read_batch(batch_ref{"shelf"}).value();
    REQUIRE(b);
    CHECK(b->sku == sku{"LAMP"});
    CHECK(b->available() == quantity{7});
    CHECK_FALSE(store.read_batch(batch_ref{"nope"}).value());
    const auto rows = store.read_allocations(order_id{"o1"}).value();
    REQUIRE(rows.size() == 1);
    CHECK(rows[0] == line_allocation{sku{"LAMP"}, quantity{3}, batch_ref{"shelf"}});
    CHECK(store.read_allocations(order_id{"o2"}).value().empty());
}

TEST_CASE("a memory read sees only what was committed and does not wait for a held product") {
    memory::store store{std::chrono::milliseconds{0}};
    seed(store);
    auto uow = store.begin();
    product* p = uow.products().get(sku{"LAMP"}).value();
    REQUIRE(p->allocate({order_id{"o2"}, sku{"LAMP"}, quantity{2}}));
    REQUIRE(p->deallocate(order_id{"o1"}));
    // The product is held: a unit of work could not get it now, a read can.
    CHECK_FALSE(store.begin().products().get(sku{"LAMP"}));
    CHECK(store.read_product(sku{"LAMP"}).value()->available == quantity{12});
    CHECK(store.read_allocations(order_id{"o1"}).value().size() == 1);
    CHECK(store.read_allocations(order_id{"o2"}).value().empty());
    REQUIRE(uow.commit());
    CHECK(store.read_product(sku{"LAMP"}).value()->available == quantity{13});
    CHECK(store.read_allocations(order_id{"o1"}).value().empty());
    CHECK(store.read_allocations(order_id{"o2"}).value().size() == 1);
}

TEST_CASE("a memory read of a batch added to an existing product finds it after commit") {
    memory::store store;
    seed(store);
    auto uow = store.begin();
    REQUIRE(uow.products().get(sku{"LAMP"}).value()->add_batch(batch_ref{"late"}, quantity{1}));
    CHECK_FALSE(store.read_batch(batch_ref{"late"}).value());
    REQUIRE(uow.commit());
    CHECK(store.read_batch(batch_ref{"late"}).value());
}

}  // TEST_SUITE
