// allocation tests — the SQLite unit of work's commits: products let go before their commits are
// durable, a failed commit failing every command that saw its effects, many threads on one product.
// SPDX-License-Identifier: MIT
#include <chrono>       // microseconds
#include <cstdint>      // int64_t, uint64_t
#include <map>          // map
#include <optional>     // optional
#include <string>       // string
#include <string_view>  // string_view
#include <thread>       // thread, yield
#include <tuple>        // tuple
#include <utility>      // move
#include <vector>       // vector

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <allocation/adapters/sqlite.hpp>
#include <allocation/allocation.hpp>

#include "files.hpp"

namespace unit_of_work_tests {

using namespace allocation;
using allocation::testing::sqlite::fresh;
using allocation::testing::sqlite::open;

// Waits until `n` commits were queued in the store.
void wait_queued(const sqlite::store& s, std::uint64_t n) {
    while (s.queued() < n) std::this_thread::yield();
}

// Runs SQL on the file through a connection of its own: another writer.
void another_writer(const std::string& path, const char* sql) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    const int rc = allocation::sqlite::detail::exec_script(db, sql);
    sqlite3_close(db);
    REQUIRE(rc == SQLITE_OK);
}

// Allocates a line in a unit of work of its own and commits; what the product had available
// before is put in `seen`.
auto allocate_and_commit(sqlite::store& s, const char* order, std::int64_t qty, std::int64_t& seen) -> result<void> {
    auto uow = s.begin();
    auto p = uow.products().get(sku{"LAMP"});
    if (!p || p.value() == nullptr) return errc::invalid_sku;
    seen = p.value()->available().value;
    if (auto r = p.value()->allocate({order_id{order}, sku{"LAMP"}, quantity{qty}}); !r) return r.error();
    return uow.commit();
}

// What a store loading the file afresh has of LAMP: version, and (order, batch, qty) per line.
struct stored_lamp {
    std::uint64_t version = 0;
    std::vector<std::tuple<std::string, std::string, std::int64_t>> lines;
    friend auto operator==(const stored_lamp&, const stored_lamp&) -> bool = default;
};

auto lamp_of(const product& p) -> stored_lamp {
    stored_lamp out{p.version(), {}};
    for (const auto& b : p.batches()) {
        for (const auto& e : b.allocations()) out.lines.emplace_back(e.order.value, b.ref().value, e.qty.value);
    }
    return out;
}

auto stored(const std::string& path) -> stored_lamp {
    auto s = open(path);
    auto uow = s->begin();
    auto p = uow.products().get(sku{"LAMP"});
    REQUIRE(p);
    REQUIRE(p.value() != nullptr);
    return lamp_of(*p.value());
}


TEST_SUITE_BEGIN("sqlite");

TEST_CASE("a commit that fails fails every command that saw its effects, and the product is reloaded as stored") {
    const auto path = fresh("failed-commit.db");
    auto s = open(path);
    auto bus = bootstrap(*s);
    REQUIRE(bus.handle(commands::create_batch{batch_ref{"b1"}, sku{"LAMP"}, quantity{10}}));
    REQUIRE(bus.handle(commands::create_batch{batch_ref{"c1"}, sku{"CHAIR"}, quantity{10}}));
    REQUIRE(bus.handle(commands::allocate{order_id{"o0"}, sku{"LAMP"}, quantity{1}}));
    const auto before = s->queued();

    std::optional<result<void>> first, second, blocker;
    std::int64_t first_saw = 0;
    std::int64_t second_saw = 0;
    std::thread a, b, z;
    const bool same_transaction = [] {
        bool same = false;
        SUBCASE("the command that saw it is in a later transaction") { same = false; }
        SUBCASE("the command that saw it is in the same transaction") { same = true; }
        return same;
    }();
    // The writer connection is held: the commits queue up. Meanwhile another writer changes LAMP
    // and gives it the very version the first commit would write: the first commit fails, and
    // the second, made from its effects, would find the version it expects.
    s->with_writer([&](sqlite3*) {
        std::uint64_t queued = before;
        if (same_transaction) {
            // A commit of another product leads and waits for the connection; the two LAMP
            // commits queue behind it and are written together.
            z = std::thread([&] {
                auto uow = s->begin();
                auto p = uow.products().get(sku{"CHAIR"});
                if (p && p.value() != nullptr && p.value()->allocate({order_id{"z"}, sku{"CHAIR"}, quantity{1}})) {
                    blocker = uow.commit();
                }
            });
            wait_queued(*s, ++queued);
        }
        a = std::thread([&] { first = allocate_and_commit(*s, "o1", 4, first_saw); });
        wait_queued(*s, ++queued);
        b = std::thread([&] { second = allocate_and_commit(*s, "o2", 5, second_saw); });
        wait_queued(*s, ++queued);
        another_writer(path, "UPDATE products SET version = version + 1 WHERE sku = 'LAMP'");
    });
    a.join();
    b.join();
    if (z.joinable()) z.join();

    CHECK(first_saw == 9);
    CHECK(second_saw == 5);  // o1's 4 units were taken, though not durable yet
    REQUIRE(first);
    REQUIRE(second);
    CHECK(first->error() == errc::conflict);
    CHECK(second->error() == errc::conflict);
    if (same_transaction) CHECK((blocker && *blocker));
    CHECK(s->read_allocations(order_id{"o1"}).value().empty());
    CHECK(s->read_allocations(order_id{"o2"}).value().empty());

    // The product the store hands out next is the stored one, and it can be changed again.
    {
        auto uow = s->begin();
        auto p = uow.products().get(sku{"LAMP"});
        REQUIRE(p);
        REQUIRE(p.value() != nullptr);
        CHECK(lamp_of(*p.value()) == stored(path));
        CHECK(p.value()->available() == quantity{9});
    }
    CHECK(bus.handle(commands::allocate{order_id{"o3"}, sku{"LAMP"}, quantity{9}}).value() == batch_ref{"b1"});
    CHECK(stored(path).lines.size() == 2);
}

TEST_CASE("a refusal resting on a commit that fails is answered again from storage") {
    const auto path = fresh("failed-refusal.db");
    auto s = open(path);
    auto bus = bootstrap(*s);
    REQUIRE(bus.handle(commands::create_batch{batch_ref{"b1"}, sku{"LAMP"}, quantity{10}}));
    const auto before = s->queued();
    std::optional<result<void>> first;
    std::optional<result<batch_ref>> resent;
    std::int64_t seen = 0;
    std::thread a, b;
    commands::allocate again{order_id{"o1"}, sku{"LAMP"}, quantity{5}};
    const bool recorded = [] {
        bool with_id = false;
        SUBCASE("the refusal is recorded under its message id, in a commit that rests on o1's") { with_id = true; }
        SUBCASE("the refusal commits nothing and waits for o1's commit") { with_id = false; }
        return with_id;
    }();
    if (recorded) again.message_id = "m-o1";
    s->with_writer([&](sqlite3*) {
        a = std::thread([&] { first = allocate_and_commit(*s, "o1", 4, seen); });
        wait_queued(*s, before + 1);
        // o1 sent again with another quantity: refused as a conflicting resubmission, from the
        // product that has o1 in memory; that answer is given only once o1's commit is durable.
        b = std::thread([&] { resent = bus.handle(again); });
        if (recorded) wait_queued(*s, before + 2);
        another_writer(path, "UPDATE products SET version = version + 1 WHERE sku = 'LAMP'");
    });
    a.join();
    b.join();
    REQUIRE(first);
    CHECK(first->error() == errc::conflict);
    REQUIRE(resent);
    // o1's first commit failed, so the refusal was wrong: the bus tried again on the stored
    // product, where o1 is new.
    CHECK(resent->value() == batch_ref{"b1"});
    CHECK(s->read_allocations(order_id{"o1"}).value() ==
          std::vector<line_allocation>{{sku{"LAMP"}, quantity{5}, batch_ref{"b1"}}});
}

TEST_CASE("many threads allocating on one product, with another store on the file, never oversell and store every acknowledged line") {
    const auto path = fresh("hot-product.db");
    auto s = open(path);
    auto other = open(path);  // as another process would: its own cache and connections
    auto bus = bootstrap(*s, bootstrap_options{.retry = {.attempts = 50, .backoff = std::chrono::microseconds{50}},
                                               .log = [](std::string_view) {}});
    auto other_bus = bootstrap(*other, bootstrap_options{.retry = {.attempts = 50, .backoff = std::chrono::microseconds{50}},
                                                         .log = [](std::string_view) {}});
    REQUIRE(bus.handle(commands::create_batch{batch_ref{"b1"}, sku{"LAMP"}, quantity{100}}));
    REQUIRE(bus.handle(commands::create_batch{batch_ref{"b2"}, sku{"LAMP"}, quantity{60}}));

    constexpr int threads = 8;
    constexpr int per_thread = 30;
    struct answer {
        std::string order;
        std::int64_t qty;
        result<batch_ref> r;
    };
    std::vector<std::vector<answer>> answers(threads + 1);
    std::vector<std::thread> senders;
    for (int t = 0; t <= threads; ++t) {
        senders.emplace_back([&, t] {
            auto& b = t < threads ? bus : other_bus;  // the last thread writes through the other store
            for (int i = 0; i < per_thread; ++i) {
                const auto order = fmt::format("t{}-{}", t, i);
                const std::int64_t qty = 1 + (t + i) % 3;
                answers[static_cast<std::size_t>(t)].push_back(
                    {order, qty, b.handle(commands::allocate{order_id{order}, sku{"LAMP"}, quantity{qty}})});
            }
        });
    }
    for (auto& t : senders) t.join();

    auto check = open(path);
    std::int64_t acknowledged_units = 0;
    std::size_t acknowledged = 0;
    std::size_t out_of_stock = 0;
    std::size_t wrong = 0;
    for (const auto& list : answers) {
        for (const auto& a : list) {
            const auto kept = check->read_allocations(order_id{a.order}).value();
            if (a.r) {
                ++acknowledged;
                acknowledged_units += a.qty;
                const std::vector<line_allocation> expected{{sku{"LAMP"}, quantity{a.qty}, a.r.value()}};
                if (kept != expected) ++wrong;
            } else {
                if (a.r.error() == errc::out_of_stock) ++out_of_stock;
                if (!kept.empty()) ++wrong;  // refused or failed: nothing of it is kept
            }
        }
    }
    CHECK(wrong == 0);
    CHECK(acknowledged + out_of_stock == threads * per_thread + per_thread);
    CHECK(out_of_stock > 0);  // demand exceeds stock
    const auto lamp = stored(path);
    CHECK(lamp.lines.size() == acknowledged);
    std::map<std::string, std::int64_t> per_batch;
    for (const auto& [order, batch, qty] : lamp.lines) per_batch[batch] += qty;
    CHECK(per_batch["b1"] <= 100);
    CHECK(per_batch["b2"] <= 60);
    CHECK(acknowledged_units == per_batch["b1"] + per_batch["b2"]);
    MESSAGE(acknowledged, " acknowledged, ", out_of_stock, " out of stock; ", s->transactions(),
            " transactions; conflicts: ", s->conflicts(), " and ", other->conflicts());
}

TEST_CASE("a group written wakes the commits it decided and one next leader, not every waiting thread") {
    const auto path = fresh("many-waiters.db");
    // Durable: each group waits for the disk, so many threads wait at once.
    auto opened = sqlite::store::open(path, sqlite::options{.durability = sqlite::durability::full});
    REQUIRE(opened);
    auto s = std::move(opened).value();
    auto bus = bootstrap(*s, bootstrap_options{.log = [](std::string_view) {}});
    constexpr int threads = 16;
    constexpr int per_thread = 20;
    for (int t = 0; t < threads; ++t) {
        REQUIRE(bus.handle(commands::create_batch{batch_ref{fmt::format("b{}", t)}, sku{fmt::format("S{}", t)},
                                                  quantity{per_thread}}));
    }
    const auto transactions_before = s->transactions();
    std::vector<int> acknowledged(threads, 0);
    std::vector<std::thread> senders;
    for (int t = 0; t < threads; ++t) {
        senders.emplace_back([&, t] {  // each thread on a product of its own
            for (int i = 0; i < per_thread; ++i) {
                const commands::allocate cmd{order_id{fmt::format("o{}-{}", t, i)}, sku{fmt::format("S{}", t)},
                                             quantity{1}};
                if (bus.handle(cmd)) ++acknowledged[static_cast<std::size_t>(t)];
            }
        });
    }
    for (auto& t : senders) t.join();
    for (const int n : acknowledged) CHECK(n == per_thread);
    const auto groups = s->transactions() - transactions_before;
    // Waking every waiting thread after each group (a broadcast) wakes up to threads - 1 of
    // them per group for nothing; here at most the one woken to lead may find the work taken.
    CHECK(s->idle_wakeups() <= groups);
    const int commits = threads * per_thread;
    MESSAGE(commits, " commits in ", groups, " groups; ", s->idle_wakeups(), " idle wakeups");
}

TEST_SUITE_END();
}  // namespace unit_of_work_tests
