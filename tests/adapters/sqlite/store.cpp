// allocation tests — the SQLite store beyond the conformance kit: schema, reloads, the outbox
// relay and its cursor, and the allocations read model.
// SPDX-License-Identifier: MIT
#include <algorithm>   // is_sorted, adjacent_find
#include <atomic>      // atomic
#include <chrono>      // year_month_day
#include <cstdint>     // int64_t
#include <filesystem>  // absolute, remove
#include <memory>      // unique_ptr
#include <random>      // mt19937
#include <set>         // set
#include <span>        // span
#include <string>      // string
#include <thread>      // thread
#include <vector>      // vector

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <allocation/adapters/sqlite.hpp>
#include <allocation/allocation.hpp>

namespace {

using namespace allocation;
using namespace std::chrono_literals;

auto fresh(const std::string& name) -> std::string {
    const auto path = std::filesystem::absolute(name).string();
    for (const auto* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    return path;
}

auto open(const std::string& path) -> std::unique_ptr<sqlite::store> {
    sqlite::options o;
    o.durability = sqlite::durability::normal;
    auto s = sqlite::store::open(path, o);
    REQUIRE(s);
    return std::move(s).value();
}

// A publisher that fails from its n-th event on.
struct failing_publisher {
    int left;
    int published = 0;
    template <class Event>
    auto publish(std::string_view, const Event&) -> result<void> {
        if (left-- <= 0) return errc::storage_error;
        ++published;
        return success();
    }
};

}  // namespace

TEST_SUITE_BEGIN("sqlite");

TEST_CASE("the store creates its schema at the current version and opens it again unchanged") {
    const auto path = fresh("schema.db");
    {
        auto s = open(path);
        CHECK(s->with_writer([](sqlite3* db) { return sqlite::schema::version(db).value(); }) ==
              sqlite::schema::current_version);
    }
    auto again = open(path);
    CHECK(again->with_reader([](sqlite3* db) { return sqlite::schema::version(db).value(); }) ==
          sqlite::schema::current_version);
    CHECK(again->with_reader([](sqlite3* db) {
        sqlite::detail::statement st(db, "PRAGMA journal_mode");
        REQUIRE(st.step() == SQLITE_ROW);
        return st.text(0);
    }) == "wal");
}

TEST_CASE("a database of a newer schema is refused") {
    const auto path = fresh("newer.db");
    {
        auto s = open(path);
        s->with_writer([](sqlite3* db) {
            REQUIRE(sqlite::detail::exec_script(db, "UPDATE schema_version SET version = 999") == SQLITE_OK);
        });
    }
    std::string why;
    auto s = sqlite::store::open(path, {}, &why);
    REQUIRE_FALSE(s);
    CHECK(s.error() == errc::storage_error);
    CHECK_FALSE(why.empty());
}

TEST_CASE("a product reloaded from the file has its batches, dates, rule, allocation order and version") {
    const auto path = fresh("reload.db");
    const auto eta = std::chrono::year_month_day{std::chrono::year{2031}, std::chrono::month{2}, std::chrono::day{28}};
    std::uint64_t version = 0;
    {
        auto s = open(path);
        auto bus = bootstrap(*s);
        REQUIRE(bus.handle(commands::create_batch{batch_ref{"ship"}, sku{"LAMP"}, quantity{10}, eta}));
        REQUIRE(bus.handle(commands::create_batch{batch_ref{"home"}, sku{"LAMP"}, quantity{10}}));
        REQUIRE(bus.handle(commands::set_replenishment{sku{"LAMP"}, replenishment{quantity{3}, quantity{30}, quantity{5}}}));
        for (const auto* o : {"o1", "o2", "o3"}) {
            REQUIRE(bus.handle(commands::allocate{order_id{o}, sku{"LAMP"}, quantity{3}}).value() == batch_ref{"home"});
        }
        REQUIRE(bus.handle(commands::deallocate{order_id{"o2"}, sku{"LAMP"}, {}}));
        REQUIRE(bus.handle(commands::allocate{order_id{"o4"}, sku{"LAMP"}, quantity{2}}));
        auto uow = s->begin();
        version = uow.products().get(sku{"LAMP"}).value()->version();
    }
    auto s = open(path);
    auto uow = s->begin();
    const auto* p = uow.products().get(sku{"LAMP"}).value();
    REQUIRE(p != nullptr);
    CHECK(p->version() == version);
    REQUIRE(p->batches().size() == 2);
    CHECK(p->batches()[0].ref() == batch_ref{"ship"});
    CHECK(p->batches()[0].eta() == eta);
    CHECK_FALSE(p->batches()[1].eta());
    CHECK(p->replenishment() == replenishment{quantity{3}, quantity{30}, quantity{5}});
    const auto entries = p->batches()[1].allocations();
    REQUIRE(entries.size() == 3);
    CHECK(entries[0].order == order_id{"o1"});
    CHECK(entries[1].order == order_id{"o3"});
    CHECK(entries[2].order == order_id{"o4"});
    CHECK(p->available() == quantity{12});
}

TEST_CASE("a shrunk batch's most recent lines are deallocated and reallocated, and that is stored") {
    const auto path = fresh("shrink.db");
    auto s = open(path);
    auto bus = bootstrap(*s);
    REQUIRE(bus.handle(commands::create_batch{batch_ref{"home"}, sku{"LAMP"}, quantity{10}}));
    REQUIRE(bus.handle(commands::create_batch{
        batch_ref{"ship"}, sku{"LAMP"}, quantity{10}, std::chrono::year_month_day{std::chrono::year{2030}, std::chrono::month{1}, std::chrono::day{1}}}));
    REQUIRE(bus.handle(commands::allocate{order_id{"o1"}, sku{"LAMP"}, quantity{4}}));
    REQUIRE(bus.handle(commands::allocate{order_id{"o2"}, sku{"LAMP"}, quantity{4}}));
    REQUIRE(bus.handle(commands::change_batch_quantity{batch_ref{"home"}, quantity{5}}));
    CHECK(s->read_allocations(order_id{"o1"}).value() ==
          std::vector<line_allocation>{{sku{"LAMP"}, quantity{4}, batch_ref{"home"}}});
    CHECK(s->read_allocations(order_id{"o2"}).value() ==
          std::vector<line_allocation>{{sku{"LAMP"}, quantity{4}, batch_ref{"ship"}}});
    CHECK(s->read_allocations(order_id{"nope"}).value().empty());
    s->clear_cache();
    auto again = open(path);
    auto uow = again->begin();
    const auto* p = uow.products().get(sku{"LAMP"}).value();
    CHECK(p->batches()[0].purchased() == quantity{5});
    CHECK(p->find_line(order_id{"o2"}) != nullptr);
    CHECK(p->batches()[1].allocated() == quantity{4});
}

TEST_CASE("the outbox relay publishes unsent events in order and marks them sent, at least once") {
    const auto path = fresh("outbox.db");
    auto s = open(path);
    auto bus = bootstrap(*s);
    REQUIRE(bus.handle(commands::create_batch{batch_ref{"b1"}, sku{"LAMP"}, quantity{5}}));
    REQUIRE(bus.handle(commands::allocate{order_id{"o1"}, sku{"LAMP"}, quantity{2}}));
    REQUIRE_FALSE(bus.handle(commands::allocate{order_id{"o2"}, sku{"LAMP"}, quantity{20}}));
    REQUIRE(bus.handle(commands::deallocate{order_id{"o1"}, sku{"LAMP"}, {}}));
    sqlite::outbox box(*s);
    CHECK(box.pending().value() == 4);

    SUBCASE("every event comes back as it was raised") {
        memory::publisher publisher;
        CHECK(box.relay(publisher).value() == 4);
        const auto sent = publisher.published();
        REQUIRE(sent.size() == 4);
        CHECK(sent[0].channel == "batch_created");
        CHECK(sent[1].event == events::event{events::allocated{order_id{"o1"}, sku{"LAMP"}, quantity{2}, batch_ref{"b1"}}});
        CHECK(sent[2].event == events::event{events::out_of_stock{order_id{"o2"}, sku{"LAMP"}, quantity{20}}});
        CHECK(sent[3].event == events::event{events::deallocated{order_id{"o1"}, sku{"LAMP"}, quantity{2},
                                                                 batch_ref{"b1"}, deallocation_reason::requested}});
        CHECK(box.pending().value() == 0);
        CHECK(box.relay(publisher).value() == 0);
        const auto all = box.read();
        REQUIRE(all.value().size() == 4);
        CHECK(all.value().front().id < all.value().back().id);
        CHECK(all.value().back().sent);
    }
    SUBCASE("a failing publisher stops the relay; the rest is published on the next run") {
        failing_publisher broken{2};
        const auto r = box.relay(broken);
        CHECK_FALSE(r);
        CHECK(broken.published == 2);
        CHECK(box.pending().value() == 2);
        memory::publisher publisher;
        CHECK(box.relay(publisher).value() == 2);
        CHECK(publisher.published().front().channel == "out_of_stock");
    }
    SUBCASE("events a publisher does not take are marked sent without it") {
        struct only_allocated {
            int n = 0;
            auto publish(std::string_view, const events::allocated&) -> result<void> {
                ++n;
                return success();
            }
        } p;
        CHECK(box.relay(p).value() == 4);
        CHECK(p.n == 1);
    }
}

TEST_CASE("the relay moves the outbox cursor once per batch it publishes, in one small write") {
    const auto path = fresh("cursor.db");
    auto s = open(path);
    auto bus = bootstrap(*s);
    REQUIRE(bus.handle(commands::create_batch{batch_ref{"b1"}, sku{"LAMP"}, quantity{5}}));
    for (const auto* o : {"o1", "o2", "o3", "o4"}) REQUIRE(bus.handle(commands::allocate{order_id{o}, sku{"LAMP"}, quantity{1}}));
    sqlite::outbox box(*s);
    const auto ids = box.read().value();
    REQUIRE(ids.size() == 5);
    CHECK(box.cursor().value() == 0);
    int commits = 0;
    s->with_writer([&](sqlite3* db) {
        sqlite3_commit_hook(
            db,
            [](void* n) {
                ++*static_cast<int*>(n);
                return 0;
            },
            &commits);
    });
    const auto changes = [&] { return s->with_writer([](sqlite3* db) { return sqlite3_total_changes64(db); }); };
    const auto before = changes();

    SUBCASE("a batch of five events is one transaction changing one row") {
        memory::publisher publisher;
        CHECK(box.relay(publisher).value() == 5);
        CHECK(commits == 1);
        CHECK(changes() - before == 1);
        CHECK(box.cursor().value() == ids.back().id);
    }
    SUBCASE("a batch cut short moves the cursor to the last event taken") {
        failing_publisher broken{2};
        CHECK_FALSE(box.relay(broken));
        CHECK(commits == 1);
        CHECK(changes() - before == 1);
        CHECK(box.cursor().value() == ids[1].id);
        CHECK(box.pending().value() == 3);
    }
    SUBCASE("nothing to publish writes nothing") {
        memory::publisher publisher;
        REQUIRE(box.relay(publisher).value() == 5);
        CHECK(box.relay(publisher).value() == 0);
        CHECK(commits == 1);
    }
    s->with_writer([](sqlite3* db) { sqlite3_commit_hook(db, nullptr, nullptr); });
}

TEST_CASE("events marked sent by id move the cursor only over a run of the oldest unsent ones") {
    const auto path = fresh("mark.db");
    auto s = open(path);
    auto bus = bootstrap(*s);
    REQUIRE(bus.handle(commands::create_batch{batch_ref{"b1"}, sku{"LAMP"}, quantity{5}}));
    for (const auto* o : {"o1", "o2", "o3"}) REQUIRE(bus.handle(commands::allocate{order_id{o}, sku{"LAMP"}, quantity{1}}));
    sqlite::outbox box(*s);
    const auto all = box.unsent().value();
    REQUIRE(all.size() == 4);
    REQUIRE(box.mark_sent({all[1].id, all[0].id}));
    CHECK(box.cursor().value() == all[1].id);
    CHECK(box.mark_sent({all[3].id}).error() == errc::conflict);  // all[2] is older and unsent
    CHECK(box.cursor().value() == all[1].id);
    CHECK(box.mark_sent({all[0].id}));  // already sent
    REQUIRE(box.mark_sent({all[2].id, all[3].id}));
    CHECK(box.pending().value() == 0);
}

TEST_CASE("published events are deleted in bulk, keeping the one at the cursor so that no id is reused") {
    const auto path = fresh("prune.db");
    auto s = open(path);
    auto bus = bootstrap(*s);
    REQUIRE(bus.handle(commands::create_batch{batch_ref{"b1"}, sku{"LAMP"}, quantity{5}}));
    for (const auto* o : {"o1", "o2", "o3"}) REQUIRE(bus.handle(commands::allocate{order_id{o}, sku{"LAMP"}, quantity{1}}));
    sqlite::outbox box(*s, 3);
    memory::publisher publisher;
    REQUIRE(box.relay(publisher).value() == 4);
    auto kept = box.read().value();
    REQUIRE(kept.size() == 1);
    CHECK(kept[0].id == box.cursor().value());
    const auto last = kept[0].id;
    REQUIRE(bus.handle(commands::allocate{order_id{"o4"}, sku{"LAMP"}, quantity{1}}));
    CHECK(box.unsent().value().front().id == last + 1);
    CHECK(box.relay(publisher).value() == 1);
    CHECK(box.read().value().size() == 2);  // fewer than three published kept: nothing deleted
    CHECK(publisher.published().size() == 5);
}

TEST_CASE("a relay that published less than another leaves the cursor where the other moved it") {
    const auto path = fresh("two-cursors.db");
    auto a = open(path);
    auto b = open(path);
    auto bus = bootstrap(*a);
    REQUIRE(bus.handle(commands::create_batch{batch_ref{"b1"}, sku{"LAMP"}, quantity{5}}));
    for (const auto* o : {"o1", "o2", "o3"}) REQUIRE(bus.handle(commands::allocate{order_id{o}, sku{"LAMP"}, quantity{1}}));
    sqlite::outbox box_a(*a);
    sqlite::outbox box_b(*b);
    std::vector<std::int64_t> by_a;
    std::vector<std::int64_t> by_b;
    // a reads the four events; before it is done, b publishes them all and moves the cursor.
    const auto taken = box_a.take_unsent(10, [&](std::span<const sqlite::outbox::record> rows) {
        REQUIRE(box_b.take_unsent(10, [&](std::span<const sqlite::outbox::record> r) {
            for (const auto& e : r) by_b.push_back(e.id);
            return r.size();
        }).value() == 4);
        by_a.push_back(rows[0].id);
        return std::size_t{1};
    });
    CHECK(taken.value() == 1);
    CHECK(by_a.front() == by_b.front());
    CHECK(box_a.cursor().value() == by_b.back());
    CHECK(box_a.pending().value() == 0);
}

TEST_CASE("two relays on one database publish every event, each in id order, skipping none") {
    const auto path = fresh("two-relays.db");
    auto a = open(path);
    auto b = open(path);
    auto bus = bootstrap(*a);
    REQUIRE(bus.handle(commands::create_batch{batch_ref{"b1"}, sku{"LAMP"}, quantity{1000}}));
    std::atomic<bool> writing{true};
    std::thread writer([&] {
        for (int i = 0; i < 300; ++i) {
            CHECK(bus.handle(commands::allocate{order_id{fmt::format("o{}", i)}, sku{"LAMP"}, quantity{1}}));
        }
        writing = false;
    });
    const auto relay = [&](sqlite::store& s, unsigned seed) {
        sqlite::outbox box(s);
        std::mt19937 random(seed);
        std::vector<std::int64_t> ids;
        for (;;) {
            const bool last_pass = !writing.load();
            const auto n = box.take_unsent(1 + random() % 16, [&](std::span<const sqlite::outbox::record> rows) {
                const std::size_t k = rows.empty() ? 0 : 1 + random() % rows.size();  // a prefix, as a failing sender
                for (std::size_t i = 0; i < k; ++i) ids.push_back(rows[i].id);
                return k;
            });
            CHECK(n);
            if (!n) return ids;
            if (last_pass && n.value() == 0 && box.pending().value() == 0) return ids;
        }
    };
    std::vector<std::int64_t> by_a;
    std::vector<std::int64_t> by_b;
    std::thread relay_a([&] { by_a = relay(*a, 1); });
    std::thread relay_b([&] { by_b = relay(*b, 2); });
    writer.join();
    relay_a.join();
    relay_b.join();
    CHECK(std::is_sorted(by_a.begin(), by_a.end()));
    CHECK(std::adjacent_find(by_a.begin(), by_a.end()) == by_a.end());
    CHECK(std::is_sorted(by_b.begin(), by_b.end()));
    CHECK(std::adjacent_find(by_b.begin(), by_b.end()) == by_b.end());
    std::set<std::int64_t> published(by_a.begin(), by_a.end());
    published.insert(by_b.begin(), by_b.end());
    sqlite::outbox box(*a);
    const auto all = box.read(0, 10000).value();
    REQUIRE(all.size() == 301);
    std::size_t missing = 0;
    for (const auto& e : all) missing += published.contains(e.id) ? 0U : 1U;
    CHECK(missing == 0);
    CHECK(published.size() == all.size());
    CHECK(box.cursor().value() == all.back().id);
    const auto twice = by_a.size() + by_b.size() - all.size();
    MESSAGE(twice, " events published twice");
}

TEST_CASE("low stock events are stored with the quantity to reorder") {
    const auto path = fresh("low.db");
    auto s = open(path);
    auto bus = bootstrap(*s);
    bus.set_default_replenishment(replenishment{quantity{5}, quantity{20}, {}});
    REQUIRE(bus.handle(commands::create_batch{batch_ref{"b1"}, sku{"LAMP"}, quantity{10}}));
    REQUIRE(bus.handle(commands::allocate{order_id{"o1"}, sku{"LAMP"}, quantity{6}}));
    sqlite::outbox box(*s);
    const auto all = box.read().value();
    REQUIRE(all.size() == 3);
    CHECK(all[2].event == events::event{events::low_stock{sku{"LAMP"}, quantity{4}, quantity{16}}});
}

TEST_CASE("an in-memory database works with one connection") {
    auto s = sqlite::store::open(":memory:").value();
    auto bus = bootstrap(*s);
    REQUIRE(bus.handle(commands::create_batch{batch_ref{"b1"}, sku{"LAMP"}, quantity{5}}));
    CHECK(bus.handle(commands::allocate{order_id{"o1"}, sku{"LAMP"}, quantity{2}}).value() == batch_ref{"b1"});
    CHECK(s->read_allocations(order_id{"o1"}).value().size() == 1);
}

TEST_CASE("a product changed by another store is reloaded, not answered from the cache") {
    const auto path = fresh("stale.db");
    auto a = open(path);
    auto b = open(path);
    auto bus_a = bootstrap(*a);
    auto bus_b = bootstrap(*b);
    REQUIRE(bus_a.handle(commands::create_batch{batch_ref{"b1"}, sku{"LAMP"}, quantity{5}}));
    REQUIRE(bus_a.handle(commands::allocate{order_id{"o1"}, sku{"LAMP"}, quantity{2}}));
    REQUIRE(bus_b.handle(commands::deallocate{order_id{"o1"}, sku{"LAMP"}, {}}));
    CHECK(bus_a.handle(commands::allocate{order_id{"o2"}, sku{"LAMP"}, quantity{5}}));
    CHECK(bus_a.handle(commands::deallocate{order_id{"o1"}, sku{"LAMP"}, {}}).error() == errc::not_allocated);
}

TEST_SUITE_END();
