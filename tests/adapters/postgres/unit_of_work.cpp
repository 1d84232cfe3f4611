// allocation tests — the PostgreSQL repository and unit of work.
// SPDX-License-Identifier: MIT
#include <chrono>   // year_month_day, milliseconds
#include <future>   // async, future
#include <string>   // string
#include <thread>   // this_thread
#include <vector>   // vector

#include <doctest/doctest.h>

#include <allocation/adapters/postgres/store.hpp>
#include <allocation/bus/bootstrap.hpp>

#include "adapters/postgres/server.hpp"

using namespace allocation;
using allocation::testing::postgres::fresh_store;
using namespace std::chrono_literals;

namespace {

auto day(int y, unsigned m, unsigned d) -> date { return date{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}}; }

// Adds a product with batches in one committed unit of work.
void seed(postgres::store& s, const char* code, std::vector<commands::create_batch> batches) {
    auto uow = s.begin();
    REQUIRE(uow.products().add(product{sku{code}}));
    auto* p = uow.products().get(sku{code}).value();
    for (const auto& b : batches) REQUIRE(p->add_batch(b.ref, b.qty, b.eta, b.expires));
    REQUIRE(uow.commit());
}

}  // namespace

TEST_SUITE("postgres") {

TEST_CASE("a committed product is found by its SKU and by a batch reference in a later unit of work") {
    fresh_store db;
    seed(db.store, "LAMP", {{batch_ref{"b1"}, sku{"LAMP"}, quantity{10}}});
    auto uow = db.store.begin();
    SUBCASE("by SKU") {
        auto* p = uow.products().get(sku{"LAMP"}).value();
        REQUIRE(p != nullptr);
        CHECK(p->sku() == sku{"LAMP"});
        CHECK(p->available() == quantity{10});
    }
    SUBCASE("by batch reference") {
        auto* p = uow.products().get_by_batch_ref(batch_ref{"b1"}).value();
        REQUIRE(p != nullptr);
        CHECK(p->sku() == sku{"LAMP"});
    }
    SUBCASE("an unknown SKU or batch gives no product") {
        CHECK(uow.products().get(sku{"NOPE"}).value() == nullptr);
        CHECK(uow.products().get_by_batch_ref(batch_ref{"nope"}).value() == nullptr);
    }
}

TEST_CASE("a product reads back as it was saved: batches in insertion order, allocations oldest first") {
    fresh_store db;
    seed(db.store, "LAMP",
         {{batch_ref{"ship"}, sku{"LAMP"}, quantity{20}, day(2031, 1, 2), day(2032, 3, 4)},
          {batch_ref{"here"}, sku{"LAMP"}, quantity{5}}});
    {
        auto uow = db.store.begin();
        auto* p = uow.products().get(sku{"LAMP"}).value();
        REQUIRE(p->set_replenishment({quantity{3}, quantity{40}, quantity{6}}));
        for (const char* o : {"o1", "o2", "o3", "o4"}) REQUIRE(p->allocate({order_id{o}, sku{"LAMP"}, quantity{2}}));
        REQUIRE(uow.commit());
    }
    auto uow = db.store.begin();
    const auto* p = uow.products().get(sku{"LAMP"}).value();
    REQUIRE(p != nullptr);
    const auto batches = p->batches();
    REQUIRE(batches.size() == 2);
    CHECK(batches[0].ref() == batch_ref{"ship"});
    CHECK(batches[0].eta() == day(2031, 1, 2));
    CHECK(batches[0].expires() == day(2032, 3, 4));
    CHECK(batches[1].ref() == batch_ref{"here"});
    CHECK_FALSE(batches[1].eta().has_value());
    // Warehouse stock first: o1, o2 fill "here" (5 units: 2 + 2), o3, o4 go to the shipment.
    REQUIRE(batches[1].allocations().size() == 2);
    CHECK(batches[1].allocations()[0].order == order_id{"o1"});
    CHECK(batches[1].allocations()[1].order == order_id{"o2"});
    REQUIRE(batches[0].allocations().size() == 2);
    CHECK(batches[0].allocations()[0].order == order_id{"o3"});
    CHECK(p->replenishment() == replenishment{quantity{3}, quantity{40}, quantity{6}});
    CHECK(p->version() == 2 + 1 + 4);  // two batches, the rule, four lines
    CHECK(db.scalar("SELECT allocated FROM batches WHERE ref = 'here'") == "4");
}

TEST_CASE("nothing of a unit of work that does not commit is kept") {
    fresh_store db;
    seed(db.store, "LAMP", {{batch_ref{"b1"}, sku{"LAMP"}, quantity{10}}});
    {
        auto uow = db.store.begin();
        REQUIRE(uow.products().add(product{sku{"NEW"}}));
        auto* p = uow.products().get(sku{"LAMP"}).value();
        REQUIRE(p->allocate({order_id{"o1"}, sku{"LAMP"}, quantity{3}}));
        SUBCASE("rolled back explicitly") { uow.rollback(); }
        SUBCASE("destroyed without commit") {}
    }
    auto uow = db.store.begin();
    CHECK(uow.products().get(sku{"NEW"}).value() == nullptr);
    CHECK(uow.products().get(sku{"LAMP"}).value()->available() == quantity{10});
    CHECK(db.scalar("SELECT count(*) FROM outbox WHERE channel <> 'batch_created'") == "0");
}

TEST_CASE("a unit of work can be used again after it committed or rolled back") {
    fresh_store db;
    seed(db.store, "LAMP", {{batch_ref{"b1"}, sku{"LAMP"}, quantity{10}}});
    auto uow = db.store.begin();
    REQUIRE(uow.products().get(sku{"LAMP"}).value()->allocate({order_id{"o1"}, sku{"LAMP"}, quantity{1}}));
    REQUIRE(uow.commit());
    REQUIRE(uow.products().get(sku{"LAMP"}).value()->allocate({order_id{"o2"}, sku{"LAMP"}, quantity{1}}));
    uow.rollback();
    REQUIRE(uow.products().get(sku{"LAMP"}).value()->allocate({order_id{"o3"}, sku{"LAMP"}, quantity{1}}));
    REQUIRE(uow.commit());
    CHECK(uow.products().get(sku{"LAMP"}).value()->available() == quantity{8});
    CHECK(uow.collect_new_events().size() == 2);
}

TEST_CASE("a product already stored cannot be added again") {
    fresh_store db;
    seed(db.store, "LAMP", {});
    auto uow = db.store.begin();
    CHECK(uow.products().add(product{sku{"LAMP"}}).error() == errc::duplicate_product);
}

TEST_CASE("a batch reference another product has is refused and nothing is kept") {
    fresh_store db;
    seed(db.store, "LAMP", {{batch_ref{"b1"}, sku{"LAMP"}, quantity{10}}});
    seed(db.store, "DESK", {});
    auto uow = db.store.begin();
    auto* desk = uow.products().get(sku{"DESK"}).value();
    REQUIRE(desk->add_batch(batch_ref{"b1"}, quantity{5}));  // the product cannot know
    CHECK(uow.commit().error() == errc::duplicate_batch);
    CHECK(db.scalar("SELECT count(*) FROM batches") == "1");
}

TEST_CASE("a unit of work waits for another one's product lock and then sees its commit") {
    fresh_store db;
    seed(db.store, "LAMP", {{batch_ref{"b1"}, sku{"LAMP"}, quantity{10}}});
    auto first = db.store.begin();
    REQUIRE(first.products().get(sku{"LAMP"}).value()->allocate({order_id{"o1"}, sku{"LAMP"}, quantity{10}}));
    auto second = std::async(std::launch::async, [&] {
        auto uow = db.store.begin();
        auto* p = uow.products().get(sku{"LAMP"}).value();
        return p->allocate({order_id{"o2"}, sku{"LAMP"}, quantity{1}}).error() == errc::out_of_stock;
    });
    CHECK(second.wait_for(200ms) == std::future_status::timeout);  // still waiting for the lock
    REQUIRE(first.commit());
    CHECK(second.get());  // saw o1's allocation: nothing left
}

TEST_CASE("a unit of work that waits longer than the lock timeout fails with conflict") {
    fresh_store db;
    seed(db.store, "LAMP", {{batch_ref{"b1"}, sku{"LAMP"}, quantity{10}}});
    postgres::store impatient(db.schema.url(), {.lock_timeout = 100ms});
    auto holder = db.store.begin();
    REQUIRE(holder.products().get(sku{"LAMP"}).value() != nullptr);
    auto uow = impatient.begin();
    CHECK(uow.products().get(sku{"LAMP"}).error() == errc::conflict);
    // The failed unit of work is usable again once the lock is gone.
    holder.rollback();
    CHECK(uow.products().get(sku{"LAMP"}).value() != nullptr);
}

TEST_CASE("the version check of a commit refuses a product whose version moved, as a conflict") {
    // Writers that follow the adapter hold the product's lock, so the check never fires between
    // them; it guards against any other writer. Call it as a commit would, with a stale version.
    fresh_store db;
    seed(db.store, "LAMP", {{batch_ref{"b1"}, sku{"LAMP"}, quantity{10}}});
    const auto stale = [&] { db.scalar("SELECT allocation_save_product('LAMP', 0, 5, NULL, NULL, NULL)"); };
    CHECK_THROWS_AS(stale(), pqxx::serialization_failure);
    try {
        stale();
    } catch (...) {
        CHECK(postgres::detail::classify(std::current_exception()).code == errc::conflict);
    }
    CHECK(db.scalar("SELECT version FROM products") == "1");
}

TEST_CASE("the database refuses a batch with more allocated than purchased") {
    fresh_store db;
    seed(db.store, "LAMP", {{batch_ref{"b1"}, sku{"LAMP"}, quantity{10}}});
    CHECK_THROWS_AS(db.scalar("UPDATE batches SET allocated = 11 WHERE ref = 'b1'"), pqxx::check_violation);
}

TEST_CASE("an unreachable database is a storage error, not an exception") {
    postgres::store s("postgresql://postgres@127.0.0.1:1/none", {.acquire_timeout = 100ms});
    CHECK(s.migrate().error() == errc::storage_error);
    CHECK_FALSE(s.last_error().empty());
    std::string text;
    CHECK(postgres::store::open("postgresql://postgres@127.0.0.1:1/none", {}, &text).error() == errc::storage_error);
    CHECK_FALSE(text.empty());
    auto uow = s.begin();
    CHECK(uow.products().get(sku{"LAMP"}).error() == errc::storage_error);
    CHECK(uow.commit());  // nothing to commit
}

TEST_CASE("migrating twice keeps the schema at its version") {
    fresh_store db;
    REQUIRE(db.store.migrate());
    CHECK(db.scalar("SELECT version FROM schema_version") == std::to_string(postgres::schema_version));
    CHECK(db.scalar("SELECT count(*) FROM schema_version") == "1");
}

TEST_CASE("the message bus allocates, deallocates and reallocates on PostgreSQL") {
    fresh_store db;
    auto bus = bootstrap(db.store);
    REQUIRE(bus.handle(commands::create_batch{batch_ref{"here"}, sku{"LAMP"}, quantity{10}}));
    REQUIRE(bus.handle(commands::create_batch{batch_ref{"ship"}, sku{"LAMP"}, quantity{10}, day(2031, 1, 1)}));
    CHECK(bus.handle(commands::allocate{order_id{"o1"}, sku{"LAMP"}, quantity{6}}).value() == batch_ref{"here"});
    CHECK(bus.handle(commands::allocate{order_id{"o2"}, sku{"LAMP"}, quantity{3}}).value() == batch_ref{"here"});
    SUBCASE("the same line again is answered with its batch") {
        CHECK(bus.handle(commands::allocate{order_id{"o1"}, sku{"LAMP"}, quantity{6}}).value() == batch_ref{"here"});
        CHECK(db.scalar("SELECT count(*) FROM allocations") == "2");
    }
    SUBCASE("unknown SKU and out of stock are errors") {
        CHECK(bus.handle(commands::allocate{order_id{"o3"}, sku{"NOPE"}, quantity{1}}).error() == errc::invalid_sku);
        CHECK(bus.handle(commands::allocate{order_id{"o3"}, sku{"LAMP"}, quantity{11}}).error() == errc::out_of_stock);
    }
    SUBCASE("shrinking a batch reallocates its newest line elsewhere") {
        REQUIRE(bus.handle(commands::change_batch_quantity{batch_ref{"here"}, quantity{7}}));
        CHECK(db.scalar("SELECT batch_ref FROM allocations WHERE orderid = 'o2'") == "ship");
        CHECK(db.scalar("SELECT purchased || '/' || allocated FROM batches WHERE ref = 'here'") == "7/6");
    }
    SUBCASE("a deallocated line frees its stock") {
        CHECK(bus.handle(commands::deallocate{order_id{"o1"}, sku{"LAMP"}}).value() == batch_ref{"here"});
        CHECK(db.scalar("SELECT allocated FROM batches WHERE ref = 'here'") == "3");
    }
    SUBCASE("an order is allocated whole or not at all") {
        REQUIRE(bus.handle(commands::create_batch{batch_ref{"desk"}, sku{"DESK"}, quantity{1}}));
        CHECK(bus.handle(commands::allocate_order{order_id{"o9"}, {{sku{"LAMP"}, quantity{1}}, {sku{"DESK"}, quantity{2}}}})
                  .error() == errc::out_of_stock);
        CHECK(db.scalar("SELECT count(*) FROM allocations WHERE orderid = 'o9'") == "0");
        CHECK(bus.handle(commands::allocate_order{order_id{"o9"}, {{sku{"LAMP"}, quantity{1}}, {sku{"DESK"}, quantity{1}}}}));
        CHECK(db.scalar("SELECT count(*) FROM allocations WHERE orderid = 'o9'") == "2");
    }
}

TEST_CASE("a message id processed before is answered from the inbox without allocating again") {
    fresh_store db;
    auto bus = bootstrap(db.store);
    REQUIRE(bus.handle(commands::create_batch{batch_ref{"b1"}, sku{"LAMP"}, quantity{10}}));
    commands::allocate cmd{order_id{"o1"}, sku{"LAMP"}, quantity{2}, "message-1"};
    CHECK(bus.handle(cmd).value() == batch_ref{"b1"});
    REQUIRE(bus.handle(commands::deallocate{order_id{"o1"}, sku{"LAMP"}}));
    CHECK(bus.handle(cmd).value() == batch_ref{"b1"});  // the stored answer
    CHECK(db.scalar("SELECT count(*) FROM allocations") == "0");
    CHECK(db.scalar("SELECT result FROM inbox WHERE message_id = 'message-1'") == "Bb1");
}

}  // TEST_SUITE
