// allocation tests — the grouped PostgreSQL store: commits of concurrent units of work written
// several per transaction, checked against other processes by the locked versions.
// SPDX-License-Identifier: MIT
#include <atomic>   // atomic
#include <chrono>   // milliseconds, seconds
#include <cstddef>  // size_t
#include <cstdint>  // int64_t, uint64_t
#include <future>   // async, future
#include <optional> // optional
#include <string>   // string, to_string
#include <string_view>  // string_view
#include <thread>   // thread, this_thread
#include <vector>   // vector

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <pqxx/pqxx>

#include <allocation/adapters/postgres/grouped_store.hpp>
#include <allocation/bus/bootstrap.hpp>

#include "adapters/postgres/server.hpp"

namespace grouped_store_tests {
using namespace allocation;
using allocation::testing::postgres::fresh_store;

// Adds a product with one batch in a committed unit of work of `s`.
template <class Store>
void seed(Store& s, const std::string& code, const std::string& ref, std::int64_t qty) {
    auto uow = s.begin();
    REQUIRE(uow.products().add(product{sku{code}}));
    auto* p = uow.products().get(sku{code}).value();
    REQUIRE(p->add_batch(batch_ref{ref}, quantity{qty}, std::nullopt));
    REQUIRE(uow.commit());
}

// Waits until `n` commits were queued in the store.
void wait_queued(const postgres::grouped_store& s, std::uint64_t n) {
    while (s.queued() < n) std::this_thread::yield();
}

// Allocates one line in a unit of work of its own and commits it.
auto allocate_and_commit(postgres::grouped_store& s, const std::string& code, const std::string& order) -> result<void> {
    auto uow = s.begin();
    ALLOCATION_TRY(p, uow.products().get(sku{code}));
    if (p == nullptr) return errc::invalid_sku;
    ALLOCATION_TRYV(p->allocate({order_id{order}, sku{code}, quantity{1}}));
    return uow.commit();
}

// Holds the row of a product locked in a transaction of its own until release().
struct row_lock {
    pqxx::connection c;
    pqxx::work tx;
    row_lock(const std::string& url, const std::string& code) : c(url), tx(c) {
        tx.exec("SELECT 1 FROM products WHERE sku = " + tx.quote(code) + " FOR UPDATE");
    }
    void release() { tx.commit(); }
};

// Allocates `per_thread` lines from each of `threads` threads through a bus of `s`, SKUs chosen
// by `pick(thread, i)`; returns the number acknowledged.
template <class Pick>
auto allocate_from_threads(postgres::grouped_store& s, int threads, int per_thread, const std::string& prefix, Pick pick)
    -> int {
    std::atomic<int> acknowledged{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            auto bus = bootstrap(s);
            for (int i = 0; i < per_thread; ++i) {
                const auto order = fmt::format("{}-{}-{}", prefix, t, i);
                if (bus.handle(commands::allocate{order_id{order}, sku{pick(t, i)}, quantity{1}})) ++acknowledged;
            }
        });
    }
    for (auto& th : pool) th.join();
    return acknowledged.load();
}

TEST_SUITE("postgres") {

TEST_CASE("many threads allocating on one product through the bus commit several commands per transaction, never in conflict") {
    fresh_store db;
    postgres::grouped_store s(db.schema.url());
    seed(s, "HOT", "b1", 1'000'000);
    const auto before = s.transactions();
    const int acknowledged = allocate_from_threads(s, 8, 40, "o", [](int, int) { return std::string("HOT"); });
    CHECK(acknowledged == 320);
    CHECK(db.scalar("SELECT count(*) FROM allocations") == "320");
    CHECK(db.scalar("SELECT allocated FROM batches WHERE ref = 'b1'") == "320");
    MESSAGE((s.transactions() - before), " transactions for 320 commands");
    CHECK(s.transactions() - before < 320);
    CHECK(s.conflicts() == 0);  // groups in flight at once never share a product
}

TEST_CASE("many threads allocating on many products through the bus commit several commands per transaction, never in conflict") {
    fresh_store db;
    postgres::grouped_store s(db.schema.url());
    for (int i = 0; i < 8; ++i) seed(s, fmt::format("P{}", i), fmt::format("b{}", i), 1'000'000);
    const auto before = s.transactions();
    const int acknowledged = allocate_from_threads(s, 8, 40, "o", [](int t, int i) { return fmt::format("P{}", (t + i) % 8); });
    CHECK(acknowledged == 320);
    CHECK(db.scalar("SELECT count(*) FROM allocations") == "320");
    CHECK(db.scalar("SELECT sum(allocated) FROM batches") == "320");
    MESSAGE((s.transactions() - before), " transactions for 320 commands");
    CHECK(s.transactions() - before < 320);
    CHECK(s.conflicts() == 0);  // groups in flight at once never share a product
}

TEST_CASE("two grouped stores on one database allocating on one hot product never oversell and store every acknowledged line") {
    fresh_store db;
    postgres::grouped_store first(db.schema.url());
    postgres::grouped_store second(db.schema.url());
    seed(first, "HOT", "b1", 150);
    auto a = std::async(std::launch::async, [&] {
        return allocate_from_threads(first, 4, 50, "a", [](int, int) { return std::string("HOT"); });
    });
    auto b = std::async(std::launch::async, [&] {
        return allocate_from_threads(second, 4, 50, "b", [](int, int) { return std::string("HOT"); });
    });
    const int acknowledged = a.get() + b.get();
    CHECK(acknowledged <= 150);
    CHECK(acknowledged > 0);
    CHECK(db.scalar("SELECT count(*) FROM allocations") == std::to_string(acknowledged));
    CHECK(db.scalar("SELECT allocated FROM batches WHERE ref = 'b1'") == std::to_string(acknowledged));
    MESSAGE(acknowledged, " acknowledged; conflicts: ", first.conflicts(), " and ", second.conflicts());
}

TEST_CASE("a set the database refuses fails alone while the others of its group commit") {
    fresh_store db;
    postgres::grouped_store s(db.schema.url());
    seed(s, "GATE", "g", 10);
    seed(s, "P1", "b1", 10);
    seed(s, "P2", "b2", 10);
    const auto queued = s.queued();
    // The leader of the first commit waits for GATE's row, so the next three queue as one group.
    row_lock gate(db.schema.url(), "GATE");
    auto leader = std::async(std::launch::async, [&] { return allocate_and_commit(s, "GATE", "o0"); });
    wait_queued(s, queued + 1);
    auto duplicate = std::async(std::launch::async, [&]() -> result<void> {
        auto uow = s.begin();
        ALLOCATION_TRYV(uow.products().add(product{sku{"NEW"}}));
        auto* p = uow.products().get(sku{"NEW"}).value();
        ALLOCATION_TRYV(p->add_batch(batch_ref{"b1"}, quantity{5}, std::nullopt));  // P1 has b1
        return uow.commit();
    });
    wait_queued(s, queued + 2);
    auto one = std::async(std::launch::async, [&] { return allocate_and_commit(s, "P1", "o1"); });
    wait_queued(s, queued + 3);
    auto two = std::async(std::launch::async, [&] { return allocate_and_commit(s, "P2", "o2"); });
    wait_queued(s, queued + 4);
    gate.release();
    CHECK(leader.get());
    CHECK(duplicate.get().error() == errc::duplicate_batch);
    CHECK(one.get());
    CHECK(two.get());
    CHECK(db.scalar("SELECT count(*) FROM products WHERE sku = 'NEW'") == "0");
    CHECK(db.scalar("SELECT string_agg(orderid, ',' ORDER BY orderid) FROM allocations") == "o0,o1,o2");
}

TEST_CASE("a product another store changed fails only the commits that touched it, and the bus retries them") {
    fresh_store db;
    postgres::grouped_store s(db.schema.url());
    postgres::grouped_store other(db.schema.url());
    seed(s, "GATE", "g", 10);
    seed(s, "P1", "b1", 10);
    seed(s, "P2", "b2", 10);
    REQUIRE(allocate_and_commit(s, "P1", "warm1"));  // cached in s
    REQUIRE(allocate_and_commit(s, "P2", "warm2"));
    REQUIRE(allocate_and_commit(other, "P1", "elsewhere"));  // s's P1 is now behind
    const auto queued = s.queued();
    const auto conflicts = s.conflicts();
    row_lock gate(db.schema.url(), "GATE");
    auto leader = std::async(std::launch::async, [&] { return allocate_and_commit(s, "GATE", "o0"); });
    wait_queued(s, queued + 1);
    auto stale = std::async(std::launch::async, [&] { return allocate_and_commit(s, "P1", "o1"); });
    wait_queued(s, queued + 2);
    auto fine = std::async(std::launch::async, [&] { return allocate_and_commit(s, "P2", "o2"); });
    wait_queued(s, queued + 3);
    gate.release();
    CHECK(leader.get());
    CHECK(stale.get().error() == errc::conflict);
    CHECK(fine.get());
    CHECK(s.conflicts() == conflicts + 1);
    CHECK(db.scalar("SELECT count(*) FROM allocations WHERE orderid = 'o1'") == "0");
    // The next command reloads the product: through the bus it is allocated.
    auto bus = bootstrap(s);
    CHECK(bus.handle(commands::allocate{order_id{"o1"}, sku{"P1"}, quantity{1}}).value() == batch_ref{"b1"});
    CHECK(db.scalar("SELECT allocated FROM batches WHERE ref = 'b1'") == "3");
}

TEST_CASE("a commit on another product goes beside a group waiting for its locks, unless one group may be in flight") {
    for (const std::size_t groups : {std::size_t{2}, std::size_t{1}}) {
        CAPTURE(groups);
        fresh_store db;
        postgres::grouped_store s(db.schema.url(), {.groups_in_flight = groups});
        seed(s, "GATE", "g", 10);
        seed(s, "P2", "b2", 10);
        REQUIRE(allocate_and_commit(s, "P2", "warm"));
        const auto queued = s.queued();
        row_lock gate(db.schema.url(), "GATE");
        auto waiting = std::async(std::launch::async, [&] { return allocate_and_commit(s, "GATE", "o0"); });
        wait_queued(s, queued + 1);
        auto other = std::async(std::launch::async, [&] { return allocate_and_commit(s, "P2", "o1"); });
        wait_queued(s, queued + 2);
        if (groups > 1) {
            // Written in a group of its own while the first one still waits for GATE's row.
            REQUIRE(other.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
            CHECK(db.scalar("SELECT count(*) FROM allocations WHERE orderid = 'o1'") == "1");
            CHECK(waiting.wait_for(std::chrono::milliseconds(0)) == std::future_status::timeout);
        } else {
            CHECK(other.wait_for(std::chrono::milliseconds(300)) == std::future_status::timeout);
        }
        gate.release();
        CHECK(waiting.get());
        CHECK(other.get());
        CHECK(db.scalar("SELECT allocated FROM batches WHERE ref = 'g'") == "1");
        CHECK(db.scalar("SELECT allocated FROM batches WHERE ref = 'b2'") == "2");
    }
}

TEST_CASE("a commit resting on one that failed is never written, even at the version another store wrote") {
    fresh_store db;
    postgres::grouped_store s(db.schema.url());
    postgres::grouped_store other(db.schema.url());
    seed(s, "GATE", "g", 10);
    seed(s, "P1", "b1", 10);
    REQUIRE(allocate_and_commit(s, "P1", "warm"));           // cached in s
    REQUIRE(allocate_and_commit(other, "P1", "elsewhere"));  // the database is one version ahead
    const auto queued = s.queued();
    row_lock gate(db.schema.url(), "GATE");
    // One commit on GATE and P1: its group waits for GATE's lock, then finds P1 moved on.
    auto stale = std::async(std::launch::async, [&]() -> result<void> {
        auto uow = s.begin();
        for (const auto* code : {"GATE", "P1"}) {
            ALLOCATION_TRY(p, uow.products().get(sku{code}));
            ALLOCATION_TRYV(p->allocate({order_id{"o0"}, sku{code}, quantity{1}}));
        }
        return uow.commit();
    });
    wait_queued(s, queued + 1);
    // Built on it, so expecting the version the other store wrote: it must fail with it.
    auto resting = std::async(std::launch::async, [&] { return allocate_and_commit(s, "P1", "o1"); });
    wait_queued(s, queued + 2);
    gate.release();
    CHECK(stale.get().error() == errc::conflict);
    CHECK(resting.get().error() == errc::conflict);
    CHECK(db.scalar("SELECT count(*) FROM allocations WHERE orderid IN ('o0', 'o1')") == "0");
    CHECK(db.scalar("SELECT allocated FROM batches WHERE ref = 'b1'") == "2");
    // Reloaded, the product takes the line.
    REQUIRE(allocate_and_commit(s, "P1", "o1"));
    CHECK(db.scalar("SELECT allocated FROM batches WHERE ref = 'b1'") == "3");
}

TEST_CASE("commits of one group written as rows and as statements keep their order on a product, whatever its ids contain") {
    fresh_store db;
    std::atomic<int> refused{0};  // statements the database refused
    postgres::grouped_store s(db.schema.url(), {.groups_in_flight = 1, .log = [&](std::string_view) { ++refused; }});
    const std::string code = "P'1\"{,}\\";
    const std::string ref = "b\"1,\\{ }";
    const std::string line = "o 1\"{NULL}";
    seed(s, "GATE", "g", 10);
    seed(s, code, ref, 10);
    const auto commit = [&](auto change) {
        return std::async(std::launch::async, [&s, &code, change]() -> result<void> {
            auto uow = s.begin();
            ALLOCATION_TRY(p, uow.products().get(sku{code}));
            ALLOCATION_TRYV(change(*p, uow));
            return uow.commit();
        });
    };
    const auto before = s.transactions();
    const auto queued = s.queued();
    // The leader of the first commit waits for GATE's row, so the next five queue as one group.
    row_lock gate(db.schema.url(), "GATE");
    auto leader = std::async(std::launch::async, [&] { return allocate_and_commit(s, "GATE", "o0"); });
    wait_queued(s, queued + 1);
    std::vector<std::future<result<void>>> commits;
    const auto allocate = [&](const std::string& order, std::int64_t qty) {
        return [order, qty, &code](product& p, auto&) -> result<void> {
            ALLOCATION_TRYV(p.allocate({order_id{order}, sku{code}, quantity{qty}}));
            return success();
        };
    };
    commits.push_back(commit(allocate(line, 1)));  // as rows
    wait_queued(s, queued + 2);
    commits.push_back(commit([&](product& p, auto&) -> result<void> {  // as statements
        ALLOCATION_TRYV(p.deallocate(order_id{line}));
        return success();
    }));
    wait_queued(s, queued + 3);
    commits.push_back(commit(allocate(line, 1)));  // as rows again, after the deallocation
    wait_queued(s, queued + 4);
    commits.push_back(commit([&](product& p, auto&) { return p.change_batch_quantity(batch_ref{ref}, quantity{8}); }));
    wait_queued(s, queued + 5);
    commits.push_back(commit([&](product& p, auto& uow) -> result<void> {
        ALLOCATION_TRYV(p.allocate({order_id{"o2"}, sku{code}, quantity{2}}));
        return uow.record_processed("m-'\"{}", "b\"1");
    }));
    wait_queued(s, queued + 6);
    gate.release();
    CHECK(leader.get());
    for (auto& c : commits) CHECK(c.get());
    CHECK(s.transactions() - before == 2);  // the leader's group, then the five together
    CHECK(refused == 0);                      // written in their order at the first attempt
    CHECK(db.scalar("SELECT string_agg(orderid || '=' || qty, '|' ORDER BY id) FROM allocations a JOIN batches b "
                    "ON b.ref = a.batch_ref WHERE b.sku = " + db.quote(code)) == line + "=1|o2=2");
    CHECK(db.scalar("SELECT purchased || '/' || allocated FROM batches WHERE ref = " + db.quote(ref)) == "8/3");
    CHECK(db.scalar("SELECT string_agg(channel || ':' || coalesce(orderid, '') || ':' || coalesce(batchref, ''), '|' "
                    "ORDER BY id) FROM outbox WHERE sku = " + db.quote(code) + " AND channel <> 'batch_created'") ==
          fmt::format("line_allocated:{0}:{1}|line_deallocated:{0}:{1}|line_allocated:{0}:{1}|batch_quantity_changed::{1}|"
                      "line_allocated:o2:{1}",
                      line, ref));
    CHECK(s.find_processed("m-'\"{}").value() == std::optional<std::string>("b\"1"));
    auto uow = db.store.begin();  // what another store reads
    auto* p = uow.products().get(sku{code}).value();
    REQUIRE(p != nullptr);
    CHECK(p->available() == quantity{5});
    CHECK(p->version() == s.begin().products().get(sku{code}).value()->version());
}

TEST_CASE("a grouped store keeps what the existing store reads, and answers a message id from its inbox") {
    fresh_store db;
    postgres::grouped_store s(db.schema.url());
    auto bus = bootstrap(s);
    REQUIRE(bus.handle(commands::create_batch{batch_ref{"b1"}, sku{"LAMP"}, quantity{10}}));
    commands::allocate cmd{order_id{"o1"}, sku{"LAMP"}, quantity{2}, "message-1"};
    CHECK(bus.handle(cmd).value() == batch_ref{"b1"});
    CHECK(bus.handle(cmd).value() == batch_ref{"b1"});
    CHECK(db.scalar("SELECT count(*) FROM allocations") == "1");
    CHECK(bus.handle(commands::allocate{order_id{"o2"}, sku{"LAMP"}, quantity{11}}).error() == errc::out_of_stock);
    CHECK(bus.handle(commands::allocate{order_id{"o3"}, sku{"NOPE"}, quantity{1}}).error() == errc::invalid_sku);
    auto uow = db.store.begin();
    CHECK(uow.products().get(sku{"LAMP"}).value()->available() == quantity{8});
    SUBCASE("a commit of inbox records alone keeps them") {
        auto only = s.begin();
        REQUIRE(only.record_processed("message-2", "refused"));
        REQUIRE(only.commit());
        CHECK(s.find_processed("message-2").value() == std::optional<std::string>("refused"));
    }
}

}  // TEST_SUITE
}  // namespace grouped_store_tests
