// allocation tests — the SQLite schema migrations: a database written by an older version of the
// adapter is upgraded in place when a store opens it, and keeps every allocation and event.
// SPDX-License-Identifier: MIT
#include <cstdint>  // int64_t
#include <string>   // string
#include <vector>   // vector

#include <doctest/doctest.h>

#include <allocation/adapters/sqlite.hpp>
#include <allocation/allocation.hpp>

#include "files.hpp"

namespace migration_tests {

using namespace allocation;
using allocation::testing::sqlite::fresh;
using allocation::testing::sqlite::open;

void exec(sqlite3* db, const std::string& sql) {
    INFO(sql);
    REQUIRE(sqlite::detail::exec_script(db, sql.c_str()) == SQLITE_OK);
}

auto column(sqlite3* db, const char* sql) -> std::vector<std::string> {
    sqlite::detail::statement st(db, sql);
    REQUIRE(st.ok());
    std::vector<std::string> out;
    while (st.step() == SQLITE_ROW) out.push_back(st.text(0));
    return out;
}

// A database of schema version 2 at `path`, made with that version's DDL: LAMP (batches b1 in
// the warehouse and b2 shipping) and DESK (batch d1); order o1 took one DESK, then two LAMPs;
// o3 one LAMP, o2 three LAMPs from b2; each allocation has its row in the allocations_view
// table. The outbox holds the four events before o1's LAMP (ids 1-4, sent) and the three
// allocations after it (ids 5-7, unsent).
void create_version_2(const std::string& path) {
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &raw) == SQLITE_OK);
    const sqlite::detail::connection db(raw);
    std::string ddl = "CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (2);";
    for (std::size_t i = 0; i < 2; ++i) ddl += sqlite::schema::migration_script(i);
    exec(raw, ddl);
    exec(raw, R"sql(
INSERT INTO products (sku, version) VALUES ('LAMP', 5), ('DESK', 2);
INSERT INTO batches (ref, sku, purchased, eta, expires, position) VALUES
    ('b1', 'LAMP', 10, NULL, NULL, 0), ('b2', 'LAMP', 10, '2031-01-01', NULL, 1), ('d1', 'DESK', 5, NULL, NULL, 0);
INSERT INTO allocations (id, batch_ref, orderid, qty) VALUES
    (1, 'd1', 'o1', 1), (2, 'b1', 'o1', 2), (3, 'b1', 'o3', 1), (4, 'b2', 'o2', 3);
INSERT INTO allocations_view (orderid, sku, batchref) VALUES
    ('o1', 'DESK', 'd1'), ('o1', 'LAMP', 'b1'), ('o3', 'LAMP', 'b1'), ('o2', 'LAMP', 'b2');
INSERT INTO outbox (id, channel, orderid, sku, batchref, qty, eta, sent) VALUES
    (1, 'batch_created', NULL, 'LAMP', 'b1', 10, NULL, 1),
    (2, 'batch_created', NULL, 'LAMP', 'b2', 10, '2031-01-01', 1),
    (3, 'batch_created', NULL, 'DESK', 'd1', 5, NULL, 1),
    (4, 'line_allocated', 'o1', 'DESK', 'd1', 1, NULL, 1),
    (5, 'line_allocated', 'o1', 'LAMP', 'b1', 2, NULL, 0),
    (6, 'line_allocated', 'o3', 'LAMP', 'b1', 1, NULL, 0),
    (7, 'line_allocated', 'o2', 'LAMP', 'b2', 3, NULL, 0);
)sql");
}

auto allocated(const char* order, const char* code, std::int64_t qty, const char* batch) -> events::event {
    return events::allocated{order_id{order}, sku{code}, quantity{qty}, batch_ref{batch}};
}


TEST_SUITE_BEGIN("sqlite");

TEST_CASE("a version-2 database is migrated in place and keeps every allocation readable in allocation order") {
    const auto path = fresh("migrate-allocations.db");
    create_version_2(path);
    auto s = open(path);
    CHECK(s->with_reader([](sqlite3* db) { return sqlite::schema::version(db).value(); }) == 3);
    CHECK(s->read_allocations(order_id{"o1"}).value() ==
          std::vector<line_allocation>{{sku{"DESK"}, quantity{1}, batch_ref{"d1"}}, {sku{"LAMP"}, quantity{2}, batch_ref{"b1"}}});
    CHECK(s->read_allocations(order_id{"o2"}).value() ==
          std::vector<line_allocation>{{sku{"LAMP"}, quantity{3}, batch_ref{"b2"}}});
    s->with_reader([](sqlite3* db) {
        CHECK(column(db, "SELECT type FROM sqlite_master WHERE name = 'allocations_view'") ==
              std::vector<std::string>{"view"});
        CHECK(column(db, "SELECT orderid || ' ' || sku || ' ' || batchref FROM allocations_view") ==
              std::vector<std::string>{"o1 DESK d1", "o1 LAMP b1", "o3 LAMP b1", "o2 LAMP b2"});
        CHECK(column(db, "SELECT name FROM pragma_table_info('outbox') WHERE name = 'sent'").empty());
        CHECK(column(db, "SELECT name FROM sqlite_master WHERE name = 'outbox_unsent'").empty());
    });

    SUBCASE("the products load with their allocations and take new ones, written to the view") {
        auto bus = bootstrap(*s);
        REQUIRE(bus.handle(commands::allocate{order_id{"o4"}, sku{"LAMP"}, quantity{6}}).value() == batch_ref{"b1"});
        CHECK(bus.handle(commands::allocate{order_id{"o5"}, sku{"LAMP"}, quantity{2}}).value() == batch_ref{"b2"});
        REQUIRE(bus.handle(commands::deallocate{order_id{"o3"}, sku{"LAMP"}, {}}));
        s->with_reader([](sqlite3* db) {
            CHECK(column(db, "SELECT orderid FROM allocations_view WHERE sku = 'LAMP'") ==
                  std::vector<std::string>{"o1", "o2", "o4", "o5"});
        });
        s->clear_cache();
        auto uow = s->begin();
        const auto* p = uow.products().get(sku{"LAMP"}).value();
        REQUIRE(p != nullptr);
        CHECK(p->version() == 8);
        CHECK(p->available() == quantity{7});
    }
}

TEST_CASE("a version-2 database's unsent events are published after the migration, exactly once and in order") {
    const auto path = fresh("migrate-outbox.db");
    create_version_2(path);
    auto s = open(path);
    sqlite::outbox box(*s);
    memory::publisher publisher;

    SUBCASE("the cursor starts before the first unsent event") {
        CHECK(box.cursor().value() == 4);
        CHECK(box.pending().value() == 3);
        CHECK(box.relay(publisher).value() == 3);
        CHECK(box.relay(publisher).value() == 0);
        const auto sent = publisher.published();
        REQUIRE(sent.size() == 3);
        CHECK(sent[0].event == allocated("o1", "LAMP", 2, "b1"));
        CHECK(sent[1].event == allocated("o3", "LAMP", 1, "b1"));
        CHECK(sent[2].event == allocated("o2", "LAMP", 3, "b2"));
        const auto all = box.read().value();
        REQUIRE(all.size() == 7);  // nothing deleted below 4096 published events
        CHECK(all[3].sent);
        CHECK(all[6].sent);
    }
    SUBCASE("new events follow the migrated ones") {
        auto bus = bootstrap(*s);
        REQUIRE(bus.handle(commands::allocate{order_id{"o4"}, sku{"DESK"}, quantity{1}}));
        const auto fresh_events = box.read(7).value();
        REQUIRE(fresh_events.size() == 1);
        CHECK(fresh_events[0].id == 8);
        CHECK(box.relay(publisher).value() == 4);
        CHECK(publisher.published().back().event == allocated("o4", "DESK", 1, "d1"));
    }
}

TEST_CASE("a version-2 database whose events were all sent publishes none of them again") {
    const auto path = fresh("migrate-sent.db");
    create_version_2(path);
    {
        sqlite3* raw = nullptr;
        REQUIRE(sqlite3_open(path.c_str(), &raw) == SQLITE_OK);
        const sqlite::detail::connection db(raw);
        exec(raw, "UPDATE outbox SET sent = 1");
    }
    auto s = open(path);
    sqlite::outbox box(*s);
    CHECK(box.cursor().value() == 7);
    CHECK(box.pending().value() == 0);
    memory::publisher publisher;
    CHECK(box.relay(publisher).value() == 0);
    CHECK(publisher.published().empty());
}

TEST_CASE("a version-2 database with an empty outbox starts its cursor at zero") {
    const auto path = fresh("migrate-empty.db");
    create_version_2(path);
    {
        sqlite3* raw = nullptr;
        REQUIRE(sqlite3_open(path.c_str(), &raw) == SQLITE_OK);
        const sqlite::detail::connection db(raw);
        exec(raw, "DELETE FROM outbox");
    }
    auto s = open(path);
    sqlite::outbox box(*s);
    CHECK(box.cursor().value() == 0);
    auto bus = bootstrap(*s);
    REQUIRE(bus.handle(commands::allocate{order_id{"o4"}, sku{"DESK"}, quantity{1}}));
    memory::publisher publisher;
    CHECK(box.relay(publisher).value() == 1);
    CHECK(publisher.published().front().event == allocated("o4", "DESK", 1, "d1"));
}

TEST_SUITE_END();
}  // namespace migration_tests
