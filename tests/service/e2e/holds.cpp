// End-to-end tests of allocation-service's holds, order policies and backorders: each test starts
// the real executable (e2e/service.hpp) with a database of its own (an SQLite file; with
// ALLOCATION_SERVICE_E2E_DATABASE=postgresql a PostgreSQL schema) and its own redis-server, and
// checks the endpoints, answers and Redis channels as a client or a harness sees them.
// SPDX-License-Identifier: MIT
#include "e2e/service.hpp"

#include <signal.h>  // SIGTERM, SIGKILL

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

using namespace allocation::test::e2e;

namespace {

/// An order line of a request: `{sku, qty}`.
auto item(const std::string& sku, const json& qty) -> json { return {{"sku", sku}, {"qty", qty}}; }

/// A line of an answer: `{sku, qty, batchref}`.
auto placed_line(const std::string& sku, int qty, const std::string& batchref) -> json {
    return {{"sku", sku}, {"qty", qty}, {"batchref", batchref}};
}

/// A row of GET /allocations: `{sku, batchref}`.
auto allocation_row(const std::string& sku, const std::string& batchref) -> json { return {{"sku", sku}, {"batchref", batchref}}; }

/// An event `{orderid, sku, qty, batchref}` (line_allocated, hold_released, hold_expired).
auto line_event(const std::string& order, const std::string& sku, int qty, const std::string& batchref) -> json {
    return {{"orderid", order}, {"sku", sku}, {"qty", qty}, {"batchref", batchref}};
}

/// A request body of POST /holds; no ttl when `ttl` is null.
auto hold_request(const std::string& order, const json& lines, const json& ttl = nullptr) -> json {
    json body{{"orderid", order}, {"lines", lines}};
    if (!ttl.is_null()) body["ttl"] = ttl;
    return body;
}

/// A request body of POST /orders with a policy (and a priority when not null).
auto order_request(const std::string& order, const json& lines, const std::string& policy, const json& priority = nullptr) -> json {
    json body{{"orderid", order}, {"lines", lines}, {"policy", policy}};
    if (!priority.is_null()) body["priority"] = priority;
    return body;
}

/// A JSON array sorted, to compare lists whose order the contract leaves open.
auto sorted(json list) -> json {
    if (!list.is_array()) return list;
    std::sort(list.begin(), list.end(), [](const json& a, const json& b) { return a.dump() < b.dump(); });
    return list;
}

/// Milliseconds since the Unix epoch now, as the holds tables keep deadlines.
auto now_ms() -> long long {
    return std::chrono::duration_cast<std::chrono::milliseconds>(wall_clock::now().time_since_epoch()).count();
}

/// A hold as answered, with the time by which it is over for certain: the later of its
/// `expires_at` and `ttl` seconds after the answer arrived.
struct placed_hold {
    answer reply;
    wall_clock::time_point over;
};

/// POST /holds; REQUIREs a 201 with a well-formed `expires_at`.
auto place_hold(service& svc, const std::string& order, const json& lines, int ttl) -> placed_hold {
    auto a = svc.post("/holds", hold_request(order, lines, ttl));
    const auto answered = wall_clock::now();
    REQUIRE_MESSAGE(a.status == 201, a.body);
    const auto expires = parse_utc(a.data["expires_at"]);
    REQUIRE_MESSAGE(expires, a.body);
    return {std::move(a), std::max(*expires, answered + std::chrono::seconds(ttl))};
}

/// Polls `probe` every 20 ms until it is true (true) or `timeout` passed (false).
template <class Probe>
auto eventually(Probe probe, std::chrono::milliseconds timeout) -> bool {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (probe()) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(20ms);
    }
}

/// The time left until `t` (zero when past).
auto until(wall_clock::time_point t) -> std::chrono::milliseconds {
    return std::max(std::chrono::duration_cast<std::chrono::milliseconds>(t - wall_clock::now()), std::chrono::milliseconds(0));
}

/// The batch `ref` of a GET /products answer (null when absent).
auto batch_in(const json& product, const std::string& ref) -> json {
    if (product.is_object() && product.contains("batches")) {
        for (const auto& b : product["batches"]) {
            if (b["ref"] == ref) return b;
        }
    }
    return nullptr;
}

/// The batchref of the first entry of list `field` of an answer's body, or "" (never throws: for
/// client threads).
auto first_batchref(const std::string& body, const char* field) -> std::string {
    const auto j = json::parse(body, nullptr, false);
    if (!j.is_object() || !j.contains(field) || !j[field].is_array() || j[field].empty()) return "";
    const auto& first = j[field][0];
    return first.is_object() && first.contains("batchref") && first["batchref"].is_string() ? first["batchref"].get<std::string>() : "";
}

auto confirm_path(const std::string& order) -> std::string { return "/holds/" + order + "/confirm"; }

/// True (and says so) when redis-server is not installed: a test of Redis channels is skipped.
auto redis_missing() -> bool {
    if (have_redis_server()) return false;
    MESSAGE("redis-server not found, skipped");
    return true;
}

/// A known SKU with no stock left: a batch of 1, allocated away.
void add_sold_out(service& svc, const std::string& sku) {
    REQUIRE(svc.post("/add_batch", batch(sku + "-gone", sku, 1)).status == 201);
    REQUIRE(svc.post("/allocate", line("sold-" + sku, sku, 1)).status == 202);
}

}  // namespace

TEST_SUITE("service-e2e-holds") {

// ---- POST /holds, GET /holds ------------------------------------------------------------------

TEST_CASE("a hold is placed whole in the batch the strategy prefers, read back, and answered again when resent") {
    service svc;
    REQUIRE(svc.post("/add_batch", batch("later", "LAMP", 10, "2011-01-03")).status == 201);
    REQUIRE(svc.post("/add_batch", batch("early", "LAMP", 10, "2011-01-02")).status == 201);
    REQUIRE(svc.post("/add_batch", batch("in-stock", "LAMP", 10)).status == 201);
    REQUIRE(svc.post("/add_batch", batch("tables", "TABLE", 5)).status == 201);

    const auto request = hold_request("o1", json::array({item("LAMP", 4), item("TABLE", 1), item("LAMP", 3)}), 600);
    auto first = svc.post("/holds", request);
    CHECK(first.status == 201);
    CHECK(first.data["orderid"] == "o1");
    CHECK(parse_utc(first.data["expires_at"]));
    CHECK(sorted(first.data["lines"]) == sorted(json::array({placed_line("LAMP", 7, "in-stock"), placed_line("TABLE", 1, "tables")})));
    CHECK(first.data.size() == 3);

    auto read = svc.get("/holds/o1");
    CHECK(read.status == 200);
    CHECK(read.data == first.data);

    auto again = svc.post("/holds", request);
    CHECK(again.status == 200);
    CHECK(again.data == first.data);
    CHECK(batch_in(svc.get("/products/LAMP").data, "in-stock")["held"] == 7);  // held once

    // 3 left unheld in the warehouse: a line of 5 is held whole in the earliest shipment.
    auto second = svc.post("/holds", hold_request("o2", json::array({item("LAMP", 5)}), 600));
    CHECK(second.status == 201);
    CHECK(second.data["lines"] == json::array({placed_line("LAMP", 5, "early")}));

    auto never = svc.get("/holds/o3");
    CHECK(never.status == 404);
    CHECK_FALSE(never.message().empty());
    CHECK(svc.get("/allocations/o1").status == 404);  // a hold is not an allocation
}

TEST_CASE("a hold of which one line cannot be held is refused 409 and holds nothing, and an unknown sku is 400") {
    service svc;
    REQUIRE(svc.post("/add_batch", batch("lamps", "LAMP", 10)).status == 201);
    REQUIRE(svc.post("/add_batch", batch("small", "TABLE", 2)).status == 201);
    REQUIRE(svc.post("/add_batch", batch("large", "TABLE", 3, "2011-01-02")).status == 201);
    auto lamps_before = svc.get("/products/LAMP").body;
    auto tables_before = svc.get("/products/TABLE").body;

    SUBCASE("a line larger than every batch, although the SKU has enough in total") {
        auto a = svc.post("/holds", hold_request("o1", json::array({item("LAMP", 2), item("TABLE", 4)}), 600));
        CHECK(a.status == 409);
        CHECK_FALSE(a.message().empty());
    }
    SUBCASE("a line larger than the stock") {
        auto a = svc.post("/holds", hold_request("o1", json::array({item("LAMP", 11)}), 600));
        CHECK(a.status == 409);
        CHECK_FALSE(a.message().empty());
    }
    SUBCASE("a line whose stock is held by another order") {
        REQUIRE(svc.post("/holds", hold_request("other", json::array({item("TABLE", 3)}), 600)).status == 201);
        auto held = svc.get("/products/TABLE").body;
        auto a = svc.post("/holds", hold_request("o1", json::array({item("LAMP", 1), item("TABLE", 3)}), 600));
        CHECK(a.status == 409);
        CHECK(svc.get("/products/TABLE").body == held);
        CHECK(svc.get("/products/LAMP").body == lamps_before);
        CHECK(svc.get("/holds/o1").status == 404);
        return;
    }
    SUBCASE("an unknown SKU") {
        auto a = svc.post("/holds", hold_request("o1", json::array({item("LAMP", 1), item("SOFA", 1)}), 600));
        CHECK(a.status == 400);
        CHECK(a.data == json{{"message", "Invalid sku SOFA"}});
    }
    CHECK(svc.get("/holds/o1").status == 404);
    CHECK(svc.get("/products/LAMP").body == lamps_before);
    CHECK(svc.get("/products/TABLE").body == tables_before);
    CHECK(svc.post("/holds", hold_request("o1", json::array({item("LAMP", 10)}), 600)).status == 201);  // nothing was taken
}

TEST_CASE("other lines for an order with a live hold are refused 409 and the live hold stays") {
    service svc;
    REQUIRE(svc.post("/add_batch", batch("lamps", "LAMP", 10)).status == 201);
    REQUIRE(svc.post("/add_batch", batch("tables", "TABLE", 10)).status == 201);
    auto first = svc.post("/holds", hold_request("o1", json::array({item("LAMP", 2)}), 600));
    REQUIRE(first.status == 201);
    for (const auto& lines : {json::array({item("LAMP", 3)}), json::array({item("TABLE", 1)}), json::array({item("LAMP", 2), item("TABLE", 1)})}) {
        CAPTURE(lines.dump());
        auto a = svc.post("/holds", hold_request("o1", lines, 600));
        CHECK(a.status == 409);
        CHECK_FALSE(a.message().empty());
    }
    CHECK(svc.get("/holds/o1").data == first.data);
    CHECK(batch_in(svc.get("/products/LAMP").data, "lamps")["held"] == 2);
    CHECK(batch_in(svc.get("/products/TABLE").data, "tables")["held"] == 0);
}

TEST_CASE("ttl defaults to 900 seconds and must be a whole number of seconds from 1 to 86400") {
    service svc;
    REQUIRE(svc.post("/add_batch", batch("lamps", "LAMP", 10)).status == 201);
    auto before = svc.get("/products/LAMP").body;
    for (const json& ttl : {json(0), json(86401), json(1.5), json("10"), json(-1), json(true), json::array({10})}) {
        CAPTURE(ttl.dump());
        auto body = hold_request("o1", json::array({item("LAMP", 1)}));
        body["ttl"] = ttl;
        auto a = svc.post("/holds", body);
        CHECK(a.status == 400);
        CHECK_FALSE(a.message().empty());
    }
    CHECK(svc.get("/products/LAMP").body == before);
    CHECK(svc.get("/holds/o1").status == 404);

    const auto sent = wall_clock::now();
    auto by_default = svc.post("/holds", hold_request("o1", json::array({item("LAMP", 1)})));
    const auto answered = wall_clock::now();
    REQUIRE(by_default.status == 201);
    const auto expires = parse_utc(by_default.data["expires_at"]);
    REQUIRE_MESSAGE(expires, by_default.body);
    CHECK(*expires >= sent + 900s - 2s);
    CHECK(*expires <= answered + 900s + 2s);

    auto longest = svc.post("/holds", hold_request("o2", json::array({item("LAMP", 1)}), 86400));
    REQUIRE(longest.status == 201);
    const auto far = parse_utc(longest.data["expires_at"]);
    REQUIRE(far);
    CHECK(*far >= sent + 86400s - 2s);
    CHECK(*far <= wall_clock::now() + 86400s + 2s);
    CHECK(svc.post("/holds", hold_request("o3", json::array({item("LAMP", 1)}), 1)).status == 201);
}

TEST_CASE("malformed hold and confirm requests are answered 4xx with a JSON message and change nothing") {
    service svc;
    REQUIRE(svc.post("/add_batch", batch("lamps", "LAMP", 10)).status == 201);
    REQUIRE(svc.post("/holds", hold_request("live", json::array({item("LAMP", 2)}), 600)).status == 201);
    auto before = svc.get("/products/LAMP").body;
    auto live = svc.get("/holds/live").body;
    const std::string long_id(10'000, 'x');

    const std::vector<bad_request> table = {
        {"not JSON", "/holds", "orderid=o1", 400},
        {"empty body", "/holds", "", 400},
        {"a JSON array", "/holds", R"([{"orderid": "o1"}])", 400},
        {"missing orderid", "/holds", json{{"lines", json::array({item("LAMP", 1)})}}.dump(), 400},
        {"orderid a number", "/holds", json{{"orderid", 7}, {"lines", json::array({item("LAMP", 1)})}}.dump(), 400},
        {"orderid of 10 kB", "/holds", hold_request(long_id, json::array({item("LAMP", 1)})).dump(), 400},
        {"orderid with a control character", "/holds", hold_request("o\x01", json::array({item("LAMP", 1)})).dump(), 400},
        {"missing lines", "/holds", R"({"orderid": "o1"})", 400},
        {"no lines", "/holds", R"({"orderid": "o1", "lines": []})", 400},
        {"lines an object", "/holds", R"({"orderid": "o1", "lines": {"sku": "LAMP", "qty": 1}})", 400},
        {"a line not an object", "/holds", R"({"orderid": "o1", "lines": ["LAMP"]})", 400},
        {"a line without qty", "/holds", R"({"orderid": "o1", "lines": [{"sku": "LAMP"}]})", 400},
        {"a line without sku", "/holds", R"({"orderid": "o1", "lines": [{"qty": 1}]})", 400},
        {"qty 0", "/holds", hold_request("o1", json::array({item("LAMP", 0)})).dump(), 400},
        {"qty -1", "/holds", hold_request("o1", json::array({item("LAMP", -1)})).dump(), 400},
        {"qty 1.5", "/holds", hold_request("o1", json::array({item("LAMP", 1.5)})).dump(), 400},
        {"qty \"1\"", "/holds", hold_request("o1", json::array({item("LAMP", "1")})).dump(), 400},
        {"qty 2^31", "/holds", hold_request("o1", json::array({item("LAMP", 2147483648LL)})).dump(), 400},
        {"sku of 10 kB", "/holds", hold_request("o1", json::array({item(long_id, 1)})).dump(), 400},
        {"duplicate key", "/holds", R"({"orderid": "o1", "orderid": "o2", "lines": [{"sku": "LAMP", "qty": 1}]})", 400},
        {"nested 100 levels", "/holds", std::string(100, '[') + std::string(100, ']'), 400},
        {"confirm not JSON", confirm_path("live"), "yes", 400},
        {"confirm a JSON array", confirm_path("live"), "[]", 400},
        {"confirm lines not an array", confirm_path("live"), R"({"lines": "LAMP"})", 400},
        {"confirm qty 0", confirm_path("live"), json{{"lines", json::array({item("LAMP", 0)})}}.dump(), 400},
        {"confirm qty 1.5", confirm_path("live"), json{{"lines", json::array({item("LAMP", 1.5)})}}.dump(), 400},
        {"confirm sku a number", confirm_path("live"), R"({"lines": [{"sku": 1, "qty": 1}]})", 400},
        {"body over 1 MB", "/holds", std::string(1024 * 1024 + 1, ' '), 413},
    };
    check_refused(svc, table);
    SUBCASE("a body not declared JSON is 415") {
        allocation::test::http_client client(svc.port());
        const auto a = client.request("POST", "/holds", hold_request("o1", json::array({item("LAMP", 1)}), 600).dump(),
                                      {{"Content-Type", "text/plain"}});
        REQUIRE(a);
        CHECK(a->status == 415);
    }
    SUBCASE("wrong methods") {
        CHECK(svc.get("/holds").status >= 400);
        CHECK(svc.get("/holds").status < 500);
        CHECK(svc.request("PUT", "/holds/live").status == 405);
        CHECK(svc.get(confirm_path("live")).status == 405);
        CHECK(svc.request("POST", "/backorders/LAMP").status == 405);
    }
    SUBCASE("bad identifiers in paths") {
        for (const auto& path : {"/holds/" + std::string(300, 'x'), "/holds/" + std::string(300, 'x') + "/confirm",
                                 "/backorders/" + std::string(300, 'x'), std::string("/holds//confirm"), std::string("/backorders/LAMP/")}) {
            CAPTURE(path);
            for (const auto* method : {"GET", "DELETE", "POST"}) {
                CAPTURE(std::string(method));
                const auto a = std::string(method) == "POST" ? svc.post(path, json::object()) : svc.request(method, path);
                CHECK(a.status >= 400);
                CHECK(a.status < 500);
            }
        }
    }
    CHECK(svc.get("/products/LAMP").body == before);
    CHECK(svc.get("/holds/live").body == live);
    CHECK(svc.get("/holds/o1").status == 404);
    CHECK(svc.get("/allocations/live").status == 404);
    CHECK(svc.get("/health").status == 200);
}

// ---- POST /holds/<orderid>/confirm ----------------------------------------------------------

TEST_CASE("confirming a hold without lines allocates all of it in the held batches and publishes line_allocated") {
    if (redis_missing()) return;
    service svc;
    channel_log allocated;
    auto listener = svc.listen("line_allocated", allocated);
    REQUIRE(svc.post("/add_batch", batch("in-stock", "LAMP", 3)).status == 201);
    REQUIRE(svc.post("/add_batch", batch("shipment", "LAMP", 10, "2011-01-02")).status == 201);
    REQUIRE(svc.post("/add_batch", batch("tables", "TABLE", 5)).status == 201);
    auto hold = svc.post("/holds", hold_request("o1", json::array({item("LAMP", 5), item("TABLE", 2)}), 600));
    REQUIRE(hold.status == 201);
    REQUIRE(sorted(hold.data["lines"]) == sorted(json::array({placed_line("LAMP", 5, "shipment"), placed_line("TABLE", 2, "tables")})));
    // Stock in the warehouse frees up: the confirm still allocates where the hold was.
    REQUIRE(svc.post("/change_batch_quantity", json{{"batchref", "in-stock"}, {"qty", 10}}).status == 200);

    auto c = svc.post(confirm_path("o1"), json::object());
    CHECK(c.status == 202);
    CHECK(c.data["orderid"] == "o1");
    CHECK(sorted(c.data["allocations"]) == sorted(json::array({placed_line("LAMP", 5, "shipment"), placed_line("TABLE", 2, "tables")})));
    CHECK(sorted(svc.get("/allocations/o1").data) == sorted({allocation_row("LAMP", "shipment"), allocation_row("TABLE", "tables")}));
    CHECK(allocated.wait_for_all({line_event("o1", "LAMP", 5, "shipment"), line_event("o1", "TABLE", 2, "tables")}, 5s));

    auto lamp = svc.get("/products/LAMP").data;
    CHECK(batch_in(lamp, "shipment")["allocated"] == 5);
    CHECK(batch_in(lamp, "shipment")["held"] == 0);
    CHECK(batch_in(lamp, "shipment")["available"] == 5);
    CHECK(lamp["available"] == 15);
    CHECK(svc.get("/holds/o1").status == 404);

    auto again = svc.post(confirm_path("o1"), json::object());
    CHECK(again.status == 202);
    CHECK(again.data == c.data);
    CHECK(svc.get("/products/LAMP").data["available"] == 15);  // not allocated twice
    CHECK(svc.request("DELETE", "/holds/o1").status == 404);   // nothing left to release
}

TEST_CASE("a partial confirm allocates what it names and releases the rest of the hold") {
    if (redis_missing()) return;
    service svc;
    channel_log allocated;
    auto listener = svc.listen("line_allocated", allocated);
    REQUIRE(svc.post("/add_batch", batch("lamps", "LAMP", 10)).status == 201);
    REQUIRE(svc.post("/add_batch", batch("tables", "TABLE", 4)).status == 201);
    REQUIRE(svc.post("/holds", hold_request("o1", json::array({item("LAMP", 7), item("TABLE", 1)}), 600)).status == 201);
    REQUIRE(svc.get("/products/LAMP").data["available"] == 3);

    const json confirm{{"lines", json::array({item("LAMP", 3)})}};
    auto c = svc.post(confirm_path("o1"), confirm);
    CHECK(c.status == 202);
    CHECK(c.data == json{{"orderid", "o1"}, {"allocations", json::array({placed_line("LAMP", 3, "lamps")})}});
    CHECK(svc.get("/allocations/o1").data == json::array({allocation_row("LAMP", "lamps")}));
    CHECK(allocated.wait_for(line_event("o1", "LAMP", 3, "lamps"), 5s));

    auto lamp = svc.get("/products/LAMP").data;
    CHECK(batch_in(lamp, "lamps")["allocated"] == 3);
    CHECK(batch_in(lamp, "lamps")["held"] == 0);
    CHECK(lamp["available"] == 7);  // the 4 not confirmed are free again
    auto table = svc.get("/products/TABLE").data;
    CHECK(batch_in(table, "tables")["held"] == 0);
    CHECK(table["available"] == 4);  // a line not named is not confirmed
    CHECK(svc.get("/holds/o1").status == 404);
    CHECK(svc.post("/allocate", line("o2", "LAMP", 7)).status == 202);

    auto again = svc.post(confirm_path("o1"), confirm);
    CHECK(again.status == 202);
    CHECK(again.data == c.data);
    CHECK(batch_in(svc.get("/products/LAMP").data, "lamps")["allocated"] == 10);
}

namespace {
/// A service with batches of LAMP and TABLE and a live hold of 5 LAMP for order o1; checks that
/// each confirm of `refused` is answered 409 with a message and changes nothing.
void check_confirms_refused(service& svc, const std::vector<json>& refused) {
    REQUIRE(svc.post("/add_batch", batch("lamps", "LAMP", 10)).status == 201);
    REQUIRE(svc.post("/add_batch", batch("tables", "TABLE", 10)).status == 201);
    auto hold = svc.post("/holds", hold_request("o1", json::array({item("LAMP", 5)}), 600));
    REQUIRE(hold.status == 201);
    auto before = svc.get("/products/LAMP").body;
    for (const auto& body : refused) {
        CAPTURE(body.dump());
        auto a = svc.post(confirm_path("o1"), body);
        CHECK(a.status == 409);
        CHECK_FALSE(a.message().empty());
    }
    CHECK(svc.get("/holds/o1").data == hold.data);
    CHECK(svc.get("/products/LAMP").body == before);
    CHECK(svc.get("/products/TABLE").data["available"] == 10);
    CHECK(svc.get("/allocations/o1").status == 404);
    // The full quantity is still confirmable.
    auto c = svc.post(confirm_path("o1"), json{{"lines", json::array({item("LAMP", 5)})}});
    CHECK(c.status == 202);
    CHECK(c.data["allocations"] == json::array({placed_line("LAMP", 5, "lamps")}));
}
}  // namespace

TEST_CASE("a confirm above the held quantity is refused 409 and the hold stays, and a confirm of an unknown order is 404") {
    service svc;
    auto unknown = svc.post(confirm_path("nobody"), json::object());
    CHECK(unknown.status == 404);
    CHECK_FALSE(unknown.message().empty());
    CHECK(svc.get("/allocations/nobody").status == 404);
    check_confirms_refused(svc, {json{{"lines", json::array({item("LAMP", 6)})}}, json{{"lines", json::array({item("LAMP", 3), item("LAMP", 3)})}}});
}

TEST_CASE("a confirm naming a SKU the hold does not have is refused 409 and the hold stays") {
    service svc;
    check_confirms_refused(svc, {json{{"lines", json::array({item("TABLE", 1)})}},
                                 json{{"lines", json::array({item("LAMP", 1), item("TABLE", 1)})}}});
}

TEST_CASE("a hold past its deadline is confirmed 410, right after it and after hold_expired was published") {
    if (redis_missing()) return;
    service svc;
    channel_log expired;
    auto listener = svc.listen("hold_expired", expired);
    REQUIRE(svc.post("/add_batch", batch("lamps", "LAMP", 10)).status == 201);
    auto hold = place_hold(svc, "o1", json::array({item("LAMP", 4)}), 1);
    std::this_thread::sleep_for(until(hold.over + 20ms));
    auto right_after = svc.post(confirm_path("o1"), json::object());
    CHECK(right_after.status == 410);
    CHECK_FALSE(right_after.message().empty());
    CHECK(svc.get("/holds/o1").status == 404);

    REQUIRE(expired.wait_for(line_event("o1", "LAMP", 4, "lamps"), until(hold.over + 5s + 500ms)));
    auto later = svc.post(confirm_path("o1"), json::object());
    CHECK(later.status == 410);
    CHECK_FALSE(later.message().empty());
    CHECK(svc.get("/allocations/o1").status == 404);
    CHECK(svc.get("/products/LAMP").data["available"] == 10);
}

// ---- DELETE /holds/<orderid> ------------------------------------------------------------------

TEST_CASE("releasing a hold answers what was released, publishes hold_released and frees the stock") {
    if (redis_missing()) return;
    service svc;
    channel_log released;
    auto listener = svc.listen("hold_released", released);
    REQUIRE(svc.post("/add_batch", batch("lamps", "LAMP", 10)).status == 201);
    REQUIRE(svc.post("/add_batch", batch("tables", "TABLE", 2)).status == 201);
    REQUIRE(svc.post("/holds", hold_request("o1", json::array({item("LAMP", 6), item("TABLE", 2)}), 600)).status == 201);
    REQUIRE(svc.post("/allocate", line("o2", "TABLE", 1)).status == 409);

    auto r = svc.request("DELETE", "/holds/o1");
    CHECK(r.status == 200);
    CHECK(r.data["orderid"] == "o1");
    CHECK(sorted(r.data["released"]) == sorted(json::array({placed_line("LAMP", 6, "lamps"), placed_line("TABLE", 2, "tables")})));
    CHECK(released.wait_for_all({line_event("o1", "LAMP", 6, "lamps"), line_event("o1", "TABLE", 2, "tables")}, 5s));
    CHECK(svc.get("/holds/o1").status == 404);
    CHECK(svc.get("/products/LAMP").data["available"] == 10);
    CHECK(batch_in(svc.get("/products/TABLE").data, "tables")["held"] == 0);
    CHECK(svc.post("/allocate", line("o2", "TABLE", 2)).status == 202);

    auto again = svc.request("DELETE", "/holds/o1");
    CHECK(again.status == 404);
    CHECK_FALSE(again.message().empty());
    CHECK(svc.request("DELETE", "/holds/nobody").status == 404);
    CHECK(svc.post(confirm_path("o1"), json::object()).status >= 400);  // nothing left to confirm
    CHECK(svc.get("/allocations/o1").status == 404);
}

// ---- expiry -----------------------------------------------------------------------------------

TEST_CASE("hold_placed is published for each line of a hold with its expires_at") {
    if (redis_missing()) return;
    service svc;
    channel_log placed;
    auto listener = svc.listen("hold_placed", placed);
    REQUIRE(svc.post("/add_batch", batch("lamps", "LAMP", 10)).status == 201);
    REQUIRE(svc.post("/add_batch", batch("tables", "TABLE", 10)).status == 201);
    auto hold = place_hold(svc, "o1", json::array({item("LAMP", 2), item("TABLE", 1), item("LAMP", 1)}), 600);
    const auto& expires_at = hold.reply.data["expires_at"];
    CHECK(placed.wait_for_all({{{"orderid", "o1"}, {"sku", "LAMP"}, {"qty", 3}, {"batchref", "lamps"}, {"expires_at", expires_at}},
                               {{"orderid", "o1"}, {"sku", "TABLE"}, {"qty", 1}, {"batchref", "tables"}, {"expires_at", expires_at}}},
                              5s));
    // Resent: answered with the live hold, no second event.
    REQUIRE(svc.post("/holds", hold_request("o1", json::array({item("LAMP", 2), item("TABLE", 1), item("LAMP", 1)}), 600)).status == 200);
    REQUIRE(svc.post("/holds", hold_request("o2", json::array({item("LAMP", 1)}), 600)).status == 201);
    REQUIRE(eventually([&] { const std::lock_guard lock(placed.mutex); return placed.messages.size() >= 3; }, 5s));
    const std::lock_guard lock(placed.mutex);
    CHECK(placed.messages.size() == 3);
}

TEST_CASE("at expires_at the held stock is free to allocations and other holds at once, and hold_expired follows within 5 s") {
    if (redis_missing()) return;
    service svc;
    channel_log expired;
    auto listener = svc.listen("hold_expired", expired);
    REQUIRE(svc.post("/add_batch", batch("lamps", "LAMP", 10)).status == 201);
    auto hold = place_hold(svc, "o1", json::array({item("LAMP", 10)}), 1);
    const auto expires = parse_utc(hold.reply.data["expires_at"]);
    REQUIRE(expires);
    CHECK(*expires <= wall_clock::now() + 2s);  // ttl 1 rounded to the second at most
    auto held = svc.get("/products/LAMP").data;
    CHECK(batch_in(held, "lamps")["held"] == 10);
    CHECK(held["available"] == 0);
    CHECK(svc.post("/allocate", line("early", "LAMP", 1)).status == 409);

    std::this_thread::sleep_for(until(hold.over + 20ms));
    // At once: no sweep needed, whatever asks first.
    auto product = svc.get("/products/LAMP").data;
    CHECK(batch_in(product, "lamps")["held"] == 0);
    CHECK(batch_in(product, "lamps")["available"] == 10);
    CHECK(product["available"] == 10);
    CHECK(svc.post("/allocate", line("o2", "LAMP", 4)).data == json{{"batchref", "lamps"}});
    auto other = svc.post("/holds", hold_request("o3", json::array({item("LAMP", 6)}), 600));
    CHECK(other.status == 201);
    CHECK(other.data["lines"] == json::array({placed_line("LAMP", 6, "lamps")}));
    CHECK(svc.get("/holds/o1").status == 404);

    CHECK(expired.wait_for(line_event("o1", "LAMP", 10, "lamps"), until(hold.over + 5s + 500ms)));
    auto after = svc.get("/products/LAMP").data;
    CHECK(batch_in(after, "lamps")["allocated"] == 4);
    CHECK(batch_in(after, "lamps")["held"] == 6);
    CHECK(after["available"] == 0);
    // The order may be held again once its hold is over.
    CHECK(svc.post("/holds", hold_request("o1", json::array({item("LAMP", 1)}), 600)).status == 409);  // no stock left
    REQUIRE(svc.request("DELETE", "/holds/o3").status == 200);
    CHECK(svc.post("/holds", hold_request("o1", json::array({item("LAMP", 1)}), 600)).status == 201);
}

// ---- GET /products ----------------------------------------------------------------------------

TEST_CASE("GET /products shows each batch's held quantity and counts only live holds against available") {
    service svc;
    REQUIRE(svc.post("/add_batch", batch("in-stock", "LAMP", 10)).status == 201);
    REQUIRE(svc.post("/add_batch", batch("shipment", "LAMP", 20, "2011-01-02")).status == 201);
    REQUIRE(svc.post("/allocate", line("a1", "LAMP", 3)).status == 202);
    auto shortlived = place_hold(svc, "h-short", json::array({item("LAMP", 2)}), 1);
    REQUIRE(svc.post("/holds", hold_request("h-long", json::array({item("LAMP", 4)}), 600)).status == 201);
    REQUIRE(svc.post("/holds", hold_request("h-ship", json::array({item("LAMP", 15)}), 600)).status == 201);

    auto product = svc.get("/products/LAMP").data;
    CHECK(product["batches"][0]["ref"] == "in-stock");
    CHECK(product["batches"][0]["purchased"] == 10);
    CHECK(product["batches"][0]["allocated"] == 3);
    CHECK(product["batches"][0]["held"] == 6);
    CHECK(product["batches"][0]["available"] == 1);
    CHECK(product["batches"][1]["held"] == 15);
    CHECK(product["batches"][1]["available"] == 5);
    CHECK(product["available"] == 6);

    std::this_thread::sleep_for(until(shortlived.over + 20ms));
    product = svc.get("/products/LAMP").data;
    CHECK(product["batches"][0]["held"] == 4);
    CHECK(product["batches"][0]["available"] == 3);
    CHECK(product["available"] == 8);
}

// ---- POST /orders policies, backorders --------------------------------------------------------

TEST_CASE("an order with policy partial takes what there is, split over batches, and answers the rest as unallocated") {
    service svc;
    REQUIRE(svc.post("/add_batch", batch("now", "LAMP", 5)).status == 201);
    REQUIRE(svc.post("/add_batch", batch("ship", "LAMP", 3, "2011-01-02")).status == 201);
    add_sold_out(svc, "TABLE");
    REQUIRE(svc.post("/add_batch", batch("chairs", "CHAIR", 10)).status == 201);

    auto a = svc.post("/orders", order_request("o1", json::array({item("LAMP", 10), item("TABLE", 1), item("CHAIR", 2)}), "partial"));
    CHECK(a.status == 202);
    CHECK(a.data["orderid"] == "o1");
    CHECK(sorted(a.data["allocations"]) ==
          sorted(json::array({placed_line("LAMP", 5, "now"), placed_line("LAMP", 3, "ship"), placed_line("CHAIR", 2, "chairs")})));
    CHECK(sorted(a.data["unallocated"]) == sorted(json::array({item("LAMP", 2), item("TABLE", 1)})));
    CHECK(sorted(svc.get("/allocations/o1").data) ==
          sorted({allocation_row("LAMP", "now"), allocation_row("LAMP", "ship"), allocation_row("CHAIR", "chairs")}));
    CHECK(svc.get("/products/LAMP").data["available"] == 0);
    CHECK(svc.get("/backorders/LAMP").data == json::array());  // partial queues nothing

    SUBCASE("nothing of the order available: 409 and nothing allocated") {
        auto none = svc.post("/orders", order_request("o2", json::array({item("LAMP", 1), item("TABLE", 1)}), "partial"));
        CHECK(none.status == 409);
        CHECK_FALSE(none.message().empty());
        CHECK(svc.get("/allocations/o2").status == 404);
    }
    SUBCASE("everything available: all allocated, nothing unallocated") {
        auto all = svc.post("/orders", order_request("o2", json::array({item("CHAIR", 3)}), "partial"));
        CHECK(all.status == 202);
        CHECK(all.data["allocations"] == json::array({placed_line("CHAIR", 3, "chairs")}));
        CHECK((!all.data.contains("unallocated") || all.data["unallocated"] == json::array()));
    }
    SUBCASE("held stock is not taken") {
        REQUIRE(svc.post("/holds", hold_request("h", json::array({item("CHAIR", 7)}), 600)).status == 201);
        auto rest = svc.post("/orders", order_request("o2", json::array({item("CHAIR", 4)}), "partial"));
        CHECK(rest.status == 202);
        CHECK(rest.data["allocations"] == json::array({placed_line("CHAIR", 1, "chairs")}));
        CHECK(rest.data["unallocated"] == json::array({item("CHAIR", 3)}));
    }
    SUBCASE("an unknown SKU: 400 naming it, nothing allocated") {
        auto bad = svc.post("/orders", order_request("o2", json::array({item("CHAIR", 1), item("SOFA", 1)}), "partial"));
        CHECK(bad.status == 400);
        CHECK(bad.data == json{{"message", "Invalid sku SOFA"}});
        CHECK(svc.get("/allocations/o2").status == 404);
    }
}

TEST_CASE("an order with policy backorder queues the rest, listed in priority then arrival order, and publishes backordered") {
    if (redis_missing()) return;
    service svc;
    channel_log backordered;
    auto listener = svc.listen("backordered", backordered);
    REQUIRE(svc.post("/add_batch", batch("b1", "LAMP", 2)).status == 201);
    REQUIRE(svc.post("/add_batch", batch("tables", "TABLE", 5)).status == 201);
    CHECK(svc.get("/backorders/LAMP").data == json::array());
    auto unknown = svc.get("/backorders/SOFA");
    CHECK(unknown.status == 404);
    CHECK_FALSE(unknown.message().empty());

    auto first = svc.post("/orders", order_request("first", json::array({item("LAMP", 4), item("TABLE", 1)}), "backorder"));
    CHECK(first.status == 202);
    CHECK(first.data["orderid"] == "first");
    CHECK(sorted(first.data["allocations"]) == sorted(json::array({placed_line("LAMP", 2, "b1"), placed_line("TABLE", 1, "tables")})));
    CHECK(first.data["backordered"] == json::array({item("LAMP", 2)}));
    CHECK(backordered.wait_for({{"orderid", "first"}, {"sku", "LAMP"}, {"qty", 2}}, 5s));

    auto urgent = svc.post("/orders", order_request("urgent", json::array({item("LAMP", 3)}), "backorder", 5));
    CHECK(urgent.status == 202);
    CHECK(urgent.data["allocations"] == json::array());
    CHECK(urgent.data["backordered"] == json::array({item("LAMP", 3)}));
    auto last = svc.post("/orders", order_request("last", json::array({item("LAMP", 2)}), "backorder"));
    CHECK(last.status == 202);
    auto minor = svc.post("/orders", order_request("minor", json::array({item("LAMP", 1)}), "backorder", -1));
    CHECK(minor.status == 202);
    CHECK(backordered.wait_for_all({{{"orderid", "urgent"}, {"sku", "LAMP"}, {"qty", 3}},
                                    {{"orderid", "last"}, {"sku", "LAMP"}, {"qty", 2}},
                                    {{"orderid", "minor"}, {"sku", "LAMP"}, {"qty", 1}}},
                                   5s));

    auto queue = svc.get("/backorders/LAMP");
    CHECK(queue.status == 200);
    CHECK(queue.data == json::array({{{"orderid", "urgent"}, {"qty", 3}, {"priority", 5}},
                                     {{"orderid", "first"}, {"qty", 2}, {"priority", 0}},
                                     {{"orderid", "last"}, {"qty", 2}, {"priority", 0}},
                                     {{"orderid", "minor"}, {"qty", 1}, {"priority", -1}}}));
    CHECK(svc.get("/backorders/TABLE").data == json::array());
    CHECK(svc.get("/allocations/urgent").status == 404);
    CHECK(svc.get("/allocations/first").data.size() == 2);
}

TEST_CASE("bad policies and priorities are answered 400, and the default policy is still all or nothing") {
    service svc;
    REQUIRE(svc.post("/add_batch", batch("b1", "LAMP", 5)).status == 201);
    auto before = svc.get("/products/LAMP").body;
    const auto lines = json::array({item("LAMP", 8)});
    for (const auto& body : {json{{"orderid", "o1"}, {"lines", lines}, {"policy", "some"}},
                             json{{"orderid", "o1"}, {"lines", lines}, {"policy", 1}},
                             json{{"orderid", "o1"}, {"lines", lines}, {"policy", "PARTIAL"}},
                             order_request("o1", lines, "backorder", 1.5), order_request("o1", lines, "backorder", "1"),
                             order_request("o1", lines, "backorder", true), order_request("o1", lines, "partial", json::array())}) {
        CAPTURE(body.dump());
        auto a = svc.post("/orders", body);
        CHECK(a.status == 400);
        CHECK_FALSE(a.message().empty());
    }
    for (const auto& body : {json{{"orderid", "o1"}, {"lines", lines}}, order_request("o1", lines, "all_or_nothing")}) {
        CAPTURE(body.dump());
        auto a = svc.post("/orders", body);
        CHECK(a.status == 409);
        CHECK_FALSE(a.message().empty());
    }
    CHECK(svc.get("/products/LAMP").body == before);
    CHECK(svc.get("/allocations/o1").status == 404);
    CHECK(svc.get("/backorders/LAMP").data == json::array());
    auto fits = svc.post("/orders", order_request("o2", json::array({item("LAMP", 5)}), "all_or_nothing"));
    CHECK(fits.status == 202);
    CHECK(fits.data == json{{"orderid", "o2"}, {"allocations", json::array({placed_line("LAMP", 5, "b1")})}});
}

namespace {
/// Queues three backorders of LAMP when 2 are free in batch b1: "first" (4, of which 2 are
/// allocated, priority 0), then "urgent" (3, priority 5) and "last" (2, priority 0).
void queue_backorders(service& svc) {
    auto first = svc.post("/orders", order_request("first", json::array({item("LAMP", 4)}), "backorder"));
    REQUIRE(first.status == 202);
    REQUIRE(first.data["allocations"] == json::array({placed_line("LAMP", 2, "b1")}));
    REQUIRE(svc.post("/orders", order_request("urgent", json::array({item("LAMP", 3)}), "backorder", 5)).status == 202);
    REQUIRE(svc.post("/orders", order_request("last", json::array({item("LAMP", 2)}), "backorder")).status == 202);
    REQUIRE(svc.get("/backorders/LAMP").data == json::array({{{"orderid", "urgent"}, {"qty", 3}, {"priority", 5}},
                                                             {{"orderid", "first"}, {"qty", 2}, {"priority", 0}},
                                                             {{"orderid", "last"}, {"qty", 2}, {"priority", 0}}}));
}
}  // namespace

TEST_CASE("backorders are filled in priority then arrival order, partly, as stock comes: batch, increase, deallocation, release, expiry") {
    if (redis_missing()) return;
    service svc;
    channel_log allocated;
    auto listener = svc.listen("line_allocated", allocated);
    REQUIRE(svc.post("/add_batch", batch("b1", "LAMP", 6)).status == 201);
    // 4 come free in each variation: urgent gets its 3, first 1 of its 2, last nothing.
    std::string filled_from = "b1";
    auto deadline = std::chrono::milliseconds(5s);
    SUBCASE("a new batch") {
        REQUIRE(svc.post("/allocate", line("other", "LAMP", 4)).status == 202);
        queue_backorders(svc);
        REQUIRE(svc.post("/add_batch", batch("b2", "LAMP", 4, "2011-01-02")).status == 201);
        filled_from = "b2";
    }
    SUBCASE("a quantity increase") {
        REQUIRE(svc.post("/allocate", line("other", "LAMP", 4)).status == 202);
        queue_backorders(svc);
        REQUIRE(svc.post("/change_batch_quantity", json{{"batchref", "b1"}, {"qty", 10}}).status == 200);
    }
    SUBCASE("a deallocation") {
        REQUIRE(svc.post("/allocate", line("other", "LAMP", 4)).status == 202);
        queue_backorders(svc);
        REQUIRE(svc.post("/deallocate", json{{"orderid", "other"}, {"sku", "LAMP"}}).status == 200);
    }
    SUBCASE("a released hold") {
        REQUIRE(svc.post("/holds", hold_request("other", json::array({item("LAMP", 4)}), 600)).status == 201);
        queue_backorders(svc);
        REQUIRE(svc.request("DELETE", "/holds/other").status == 200);
    }
    SUBCASE("an expired hold") {
        auto hold = place_hold(svc, "other", json::array({item("LAMP", 4)}), 1);
        queue_backorders(svc);
        deadline = until(hold.over + 5s + 500ms);
    }
    CHECK(allocated.wait_for_all({line_event("urgent", "LAMP", 3, filled_from), line_event("first", "LAMP", 1, filled_from)}, deadline));
    CHECK(eventually([&] { return svc.get("/backorders/LAMP").data.size() == 2; }, 2s));
    CHECK(svc.get("/backorders/LAMP").data == json::array({{{"orderid", "first"}, {"qty", 1}, {"priority", 0}},
                                                           {{"orderid", "last"}, {"qty", 2}, {"priority", 0}}}));
    CHECK(svc.get("/allocations/urgent").data == json::array({allocation_row("LAMP", filled_from)}));
    CHECK(sorted(svc.get("/allocations/first").data) ==
          sorted(filled_from == "b1" ? json::array({allocation_row("LAMP", "b1")})
                                     : json::array({allocation_row("LAMP", "b1"), allocation_row("LAMP", "b2")})));
    CHECK(svc.get("/allocations/last").status == 404);
    CHECK(svc.get("/products/LAMP").data["available"] == 0);
    {
        const std::lock_guard lock(allocated.mutex);
        for (const auto& m : allocated.messages) CHECK(m["orderid"] != "last");
    }

    // More stock: first's last unit, then last's two; the queue empties.
    REQUIRE(svc.post("/add_batch", batch("b3", "LAMP", 10, "2011-01-09")).status == 201);
    CHECK(allocated.wait_for_all({line_event("first", "LAMP", 1, "b3"), line_event("last", "LAMP", 2, "b3")}, 5s));
    CHECK(eventually([&] { return svc.get("/backorders/LAMP").data == json::array(); }, 2s));
    CHECK(svc.get("/products/LAMP").data["available"] == 7);
}

TEST_CASE("a cancelled backorder is answered 200 once, then 404, and is never filled") {
    service svc;
    REQUIRE(svc.post("/add_batch", batch("b1", "LAMP", 1)).status == 201);
    REQUIRE(svc.post("/orders", order_request("o1", json::array({item("LAMP", 3)}), "backorder")).status == 202);
    REQUIRE(svc.post("/orders", order_request("o2", json::array({item("LAMP", 2)}), "backorder")).status == 202);
    auto cancel = svc.request("DELETE", "/backorders/LAMP/o1");
    CHECK(cancel.status == 200);
    auto again = svc.request("DELETE", "/backorders/LAMP/o1");
    CHECK(again.status == 404);
    CHECK_FALSE(again.message().empty());
    CHECK(svc.request("DELETE", "/backorders/LAMP/nobody").status == 404);
    CHECK(svc.request("DELETE", "/backorders/SOFA/o2").status == 404);
    CHECK(svc.get("/backorders/LAMP").data == json::array({{{"orderid", "o2"}, {"qty", 2}, {"priority", 0}}}));

    REQUIRE(svc.post("/add_batch", batch("b2", "LAMP", 10)).status == 201);
    CHECK(eventually([&] { return svc.get("/allocations/o2").status == 200; }, 5s));
    CHECK(svc.get("/allocations/o1").data == json::array({allocation_row("LAMP", "b1")}));  // only what it had
    CHECK(svc.get("/backorders/LAMP").data == json::array());
    CHECK(svc.get("/products/LAMP").data["available"] == 8);
}

// ---- Idempotency-Key --------------------------------------------------------------------------

TEST_CASE("an Idempotency-Key on holds, confirms and policy orders replays the first answer, and another body under it is 422") {
    service svc;
    REQUIRE(svc.post("/add_batch", batch("b1", "LAMP", 10)).status == 201);
    const auto replays = [&](const std::string& path, const json& body, const json& other, const std::string& key) {
        const header_list h{{"Idempotency-Key", key}};
        auto first = svc.post(path, body, h);
        auto lamp = svc.get("/products/LAMP").body;
        auto again = svc.post(path, body, h);
        CHECK(again.status == first.status);
        CHECK(again.body == first.body);
        auto refused = svc.post(path, other, h);
        CHECK(refused.status == 422);
        CHECK_FALSE(refused.message().empty());
        CHECK(svc.get("/products/LAMP").body == lamp);  // nothing done again
        return first;
    };
    auto hold = replays("/holds", hold_request("h1", json::array({item("LAMP", 3)}), 600), hold_request("h1", json::array({item("LAMP", 4)}), 600), "hold-1");
    CHECK(hold.status == 201);
    CHECK(batch_in(svc.get("/products/LAMP").data, "b1")["held"] == 3);

    auto confirm = replays(confirm_path("h1"), json::object(), json{{"lines", json::array({item("LAMP", 1)})}}, "confirm-1");
    CHECK(confirm.status == 202);
    CHECK(confirm.data["allocations"] == json::array({placed_line("LAMP", 3, "b1")}));

    auto partial = replays("/orders", order_request("p1", json::array({item("LAMP", 9)}), "partial"),
                                 order_request("p1", json::array({item("LAMP", 9)}), "backorder"), "partial-1");
    CHECK(partial.status == 202);
    CHECK(partial.data["unallocated"] == json::array({item("LAMP", 2)}));

    auto queued = replays("/orders", order_request("q1", json::array({item("LAMP", 5)}), "backorder", 1),
                                order_request("q1", json::array({item("LAMP", 5)}), "backorder", 2), "backorder-1");
    CHECK(queued.status == 202);
    CHECK(svc.get("/backorders/LAMP").data == json::array({{{"orderid", "q1"}, {"qty", 5}, {"priority", 1}}}));

    // The world changes; the keys still answer as the first time.
    REQUIRE(svc.post("/add_batch", batch("b2", "LAMP", 100)).status == 201);
    auto replayed = svc.post("/orders", order_request("p1", json::array({item("LAMP", 9)}), "partial"), {{"Idempotency-Key", "partial-1"}});
    CHECK(replayed.body == partial.body);
    auto hold_again = svc.post("/holds", hold_request("h1", json::array({item("LAMP", 3)}), 600), {{"Idempotency-Key", "hold-1"}});
    CHECK(hold_again.status == 201);
    CHECK(hold_again.body == hold.body);
    CHECK(svc.get("/holds/h1").status == 404);  // confirmed, not held again
}

// ---- batch shrinking ---------------------------------------------------------------------------

TEST_CASE("a batch shrinking below allocated and held releases the most recent holds first, then deallocates") {
    if (redis_missing()) return;
    service svc;
    channel_log released;
    channel_log allocated;
    auto on_released = svc.listen("hold_released", released);
    auto on_allocated = svc.listen("line_allocated", allocated);
    REQUIRE(svc.post("/add_batch", batch("b1", "LAMP", 10)).status == 201);
    REQUIRE(svc.post("/add_batch", batch("ship", "LAMP", 10, "2011-01-02")).status == 201);
    REQUIRE(svc.post("/allocate", line("a1", "LAMP", 3)).data == json{{"batchref", "b1"}});
    REQUIRE(svc.post("/holds", hold_request("h-old", json::array({item("LAMP", 2)}), 600)).data["lines"][0]["batchref"] == "b1");
    REQUIRE(svc.post("/holds", hold_request("h-new", json::array({item("LAMP", 2)}), 600)).data["lines"][0]["batchref"] == "b1");

    // 3 allocated + 4 held > 6: the newest hold goes, the rest fits.
    REQUIRE(svc.post("/change_batch_quantity", json{{"batchref", "b1"}, {"qty", 6}}).status == 200);
    CHECK(released.wait_for(line_event("h-new", "LAMP", 2, "b1"), 5s));
    CHECK(svc.get("/holds/h-new").status == 404);
    CHECK(svc.get("/holds/h-old").status == 200);
    CHECK(svc.get("/allocations/a1").data == json::array({allocation_row("LAMP", "b1")}));
    auto b1 = batch_in(svc.get("/products/LAMP").data, "b1");
    CHECK(b1["held"] == 2);
    CHECK(b1["allocated"] == 3);

    // 3 allocated + 2 held > 2: the hold goes, then the line moves to the shipment.
    REQUIRE(svc.post("/change_batch_quantity", json{{"batchref", "b1"}, {"qty", 2}}).status == 200);
    CHECK(released.wait_for(line_event("h-old", "LAMP", 2, "b1"), 5s));
    CHECK(allocated.wait_for(line_event("a1", "LAMP", 3, "ship"), 5s));
    CHECK(svc.get("/holds/h-old").status == 404);
    CHECK(eventually([&] { return svc.get("/allocations/a1").data == json::array({allocation_row("LAMP", "ship")}); }, 5s));
    b1 = batch_in(svc.get("/products/LAMP").data, "b1");
    CHECK(b1["held"] == 0);
    CHECK(b1["allocated"] == 0);
    CHECK(b1["available"] == 2);
    const std::lock_guard lock(released.mutex);
    CHECK(released.messages.size() == 2);
}

// ---- durability --------------------------------------------------------------------------------

TEST_CASE("holds, confirms and backorders outlive a SIGTERM restart, and a short hold still expires on time after it") {
    database db;
    std::optional<allocation::test::redis_server> redis;
    if (have_redis_server()) redis.emplace(ALLOCATION_REDIS_SERVER);
    auto* r = redis ? &*redis : nullptr;
    answer kept;
    answer confirmed;
    placed_hold shortlived;
    {
        service svc(db, r);
        REQUIRE(svc.post("/add_batch", batch("b1", "LAMP", 20)).status == 201);
        REQUIRE(svc.post("/add_batch", batch("tables", "TABLE", 1)).status == 201);
        kept = svc.post("/holds", hold_request("kept", json::array({item("LAMP", 3)}), 600));
        REQUIRE(kept.status == 201);
        REQUIRE(svc.post("/holds", hold_request("done", json::array({item("LAMP", 2)}), 600)).status == 201);
        confirmed = svc.post(confirm_path("done"), json::object());
        REQUIRE(confirmed.status == 202);
        REQUIRE(svc.post("/orders", order_request("waiting", json::array({item("TABLE", 5)}), "backorder", 2)).status == 202);
        shortlived = place_hold(svc, "short", json::array({item("LAMP", 4)}), 3);
        CHECK(svc.stop() == 0);
    }
    channel_log expired;
    std::unique_ptr<allocation::service::redis_subscriber> listener;
    if (r != nullptr) listener = listen_on(r->port(), "hold_expired", expired);
    service svc(db, r);
    CHECK(svc.get("/holds/kept").data == kept.data);
    CHECK(svc.get("/holds/done").status == 404);
    CHECK(svc.get("/allocations/done").data == json::array({allocation_row("LAMP", "b1")}));
    auto again = svc.post(confirm_path("done"), json::object());
    CHECK(again.status == 202);
    CHECK(again.data == confirmed.data);
    CHECK(svc.get("/backorders/TABLE").data == json::array({{{"orderid", "waiting"}, {"qty", 4}, {"priority", 2}}}));
    CHECK(svc.post("/holds", hold_request("kept", json::array({item("LAMP", 3)}), 600)).data == kept.data);

    std::this_thread::sleep_for(until(shortlived.over + 20ms));
    auto lamp = svc.get("/products/LAMP").data;
    CHECK(batch_in(lamp, "b1")["held"] == 3);
    CHECK(batch_in(lamp, "b1")["allocated"] == 2);
    CHECK(lamp["available"] == 15);
    CHECK(svc.get("/holds/short").status == 404);
    if (r != nullptr) CHECK(expired.wait_for(line_event("short", "LAMP", 4, "b1"), until(shortlived.over + 5s + 500ms)));

    REQUIRE(svc.post("/add_batch", batch("more-tables", "TABLE", 10)).status == 201);
    CHECK(eventually([&] { return svc.get("/backorders/TABLE").data == json::array(); }, 5s));
    CHECK(sorted(svc.get("/allocations/waiting").data) ==
          sorted({allocation_row("TABLE", "tables"), allocation_row("TABLE", "more-tables")}));
}

TEST_CASE("a service stopped amid clients holding and confirming keeps every acknowledged hold and confirm, once") {
    int sig = SIGKILL;
    SUBCASE("SIGKILL") { sig = SIGKILL; }
    SUBCASE("SIGTERM") { sig = SIGTERM; }
    CAPTURE(sig);
    database db;
    std::optional<allocation::test::redis_server> redis;
    if (have_redis_server()) redis.emplace(ALLOCATION_REDIS_SERVER);
    auto* r = redis ? &*redis : nullptr;

    struct acknowledged {
        std::string order;
        int qty;
        std::string batch;
    };
    std::mutex mutex;
    std::vector<acknowledged> holds;
    std::vector<acknowledged> confirms;
    std::vector<std::string> unexpected;
    placed_hold shortlived;
    {
        service svc(db, r);
        REQUIRE(svc.post("/add_batch", batch("b1", "LAMP", 100000)).status == 201);
        std::atomic<bool> stopped{false};
        std::atomic<bool> signalled{false};  // after it, a stopping service may refuse new requests
        std::vector<std::thread> clients;
        for (int t = 0; t < 4; ++t) {
            clients.emplace_back([&, t, port = svc.port()] {
                allocation::test::http_client client(port);
                for (int i = 0; !stopped; ++i) {
                    const auto order = "c" + std::to_string(t) + "-" + std::to_string(i);
                    const int qty = 1 + i % 3;
                    try {
                        const auto h = client.post("/holds", hold_request(order, json::array({item("LAMP", qty)}), 600).dump());
                        if (!h) return;
                        const std::lock_guard lock(mutex);
                        if (h->status != 201) {
                            if (!signalled) unexpected.push_back("hold " + std::to_string(h->status) + " " + h->body);
                            return;
                        }
                        holds.push_back({order, qty, first_batchref(h->body, "lines")});
                    } catch (const std::exception&) {  // the service is gone: no connection
                        return;
                    }
                    if (i % 2 != 0) continue;
                    try {
                        const auto c = client.post(confirm_path(order), "{}");
                        if (!c) return;
                        const std::lock_guard lock(mutex);
                        if (c->status != 202) {
                            if (!signalled) unexpected.push_back("confirm " + std::to_string(c->status) + " " + c->body);
                            return;
                        }
                        confirms.push_back({order, qty, first_batchref(c->body, "allocations")});
                    } catch (const std::exception&) {
                        return;
                    }
                }
            });
        }
        REQUIRE(eventually([&] { const std::lock_guard lock(mutex); return confirms.size() >= 40; }, 20s));
        shortlived = place_hold(svc, "short", json::array({item("LAMP", 5)}), 3);
        signalled = true;
        svc.process().signal(sig);
        auto code = svc.process().wait(10s);
        stopped = true;
        for (auto& c : clients) c.join();
        REQUIRE(code);
        CHECK(*code == (sig == SIGKILL ? 128 + SIGKILL : 0));
    }
    CHECK_MESSAGE(unexpected.empty(), (unexpected.empty() ? "" : unexpected.front()));
    channel_log expired;
    std::unique_ptr<allocation::service::redis_subscriber> listener;
    if (r != nullptr) listener = listen_on(r->port(), "hold_expired", expired);
    service svc(db, r);

    std::set<std::string> confirmed;
    for (const auto& c : confirms) {
        confirmed.insert(c.order);
        CAPTURE(c.order);
        CHECK(svc.get("/allocations/" + c.order).data == json::array({allocation_row("LAMP", c.batch)}));
        CHECK(svc.get("/holds/" + c.order).status == 404);
    }
    for (const auto& h : holds) {
        if (confirmed.contains(h.order)) continue;
        CAPTURE(h.order);
        auto live = svc.get("/holds/" + h.order);
        if (live.status == 200) {
            CHECK(live.data["lines"] == json::array({placed_line("LAMP", h.qty, h.batch)}));
        } else {  // its confirm was sent but its answer lost
            CHECK(svc.get("/allocations/" + h.order).data == json::array({allocation_row("LAMP", h.batch)}));
        }
    }
    // Nothing doubled: one allocation per order, of the quantity held.
    CHECK(db.column("SELECT orderid FROM allocations GROUP BY orderid HAVING count(*) > 1").empty());
    std::map<std::string, int> held_qty;
    for (const auto& h : holds) held_qty[h.order] = h.qty;
    for (const auto& row : db.column("SELECT orderid || '/' || qty FROM allocations")) {
        const auto slash = row.rfind('/');
        const auto order = row.substr(0, slash);
        CAPTURE(row);
        if (held_qty.contains(order)) CHECK(std::stoi(row.substr(slash + 1)) == held_qty[order]);
    }

    std::this_thread::sleep_for(until(shortlived.over + 20ms));
    CHECK(svc.get("/holds/short").status == 404);
    const auto live_held = db.column("SELECT coalesce(sum(qty), 0) FROM holds WHERE expires_at > " + std::to_string(now_ms()));
    REQUIRE(live_held.size() == 1);
    const auto allocated = db.column("SELECT coalesce(sum(qty), 0) FROM allocations");
    REQUIRE(allocated.size() == 1);
    auto b1 = batch_in(svc.get("/products/LAMP").data, "b1");
    CHECK(b1["held"] == std::stoll(live_held[0]));
    CHECK(b1["allocated"] == std::stoll(allocated[0]));
    CHECK(b1["available"] == 100000 - std::stoll(live_held[0]) - std::stoll(allocated[0]));
    if (r != nullptr) CHECK(expired.wait_for(line_event("short", "LAMP", 5, "b1"), until(shortlived.over + 5s + 500ms)));
}

// ---- concurrency -------------------------------------------------------------------------------

TEST_CASE("two service processes holding and confirming one SKU never oversell and keep every answer") {
    database db;
    service first(db, nullptr);
    service second(db, nullptr);
    REQUIRE(first.post("/add_batch", batch("now", "LAMP", 60)).status == 201);
    REQUIRE(second.post("/add_batch", batch("later", "LAMP", 40, "2030-01-01")).status == 201);

    constexpr int threads_per_process = 4;
    constexpr int rounds = 25;
    struct acknowledged {
        std::string order;
        int qty;
        std::string batch;
    };
    std::mutex mutex;
    std::vector<acknowledged> live;       // held and left so
    std::vector<acknowledged> confirmed;  // confirmed, in full or in part
    int refused = 0;
    std::vector<std::string> unexpected;
    std::vector<std::thread> clients;
    for (int t = 0; t < 2 * threads_per_process; ++t) {
        clients.emplace_back([&, t, port = (t % 2 == 0 ? first : second).port()] {
            allocation::test::http_client client(port);
            std::mt19937 random(static_cast<std::uint32_t>(t));
            const auto fail = [&](const std::string& what, const std::optional<allocation::test::http_answer>& a) {
                const std::lock_guard lock(mutex);
                unexpected.push_back(what + " " + (a ? std::to_string(a->status) + " " + a->body : std::string("no answer")));
            };
            // A 503 says the product is busy (the other process kept moving it on): nothing was
            // kept, and the client retries, as the answer asks.
            const auto until_not_busy = [](auto send) {
                auto answer = send();
                for (int retry = 0; retry < 20 && answer && answer->status == 503; ++retry) answer = send();
                return answer;
            };
            for (int i = 0; i < rounds; ++i) {
                const auto order = "p" + std::to_string(t) + "-" + std::to_string(i);
                const int qty = 1 + static_cast<int>(random() % 3);
                const auto h = until_not_busy(
                    [&] { return client.post("/holds", hold_request(order, json::array({item("LAMP", qty)}), 600).dump()); });
                if (h && h->status == 409) {
                    const std::lock_guard lock(mutex);
                    ++refused;
                    continue;
                }
                if (!h || h->status != 201) {
                    fail("hold", h);
                    continue;
                }
                const auto batchref = first_batchref(h->body, "lines");
                switch (random() % 4) {
                    case 0: {
                        const std::lock_guard lock(mutex);
                        live.push_back({order, qty, batchref});
                        break;
                    }
                    case 1: {
                        const auto r = until_not_busy([&] { return client.request("DELETE", "/holds/" + order); });
                        if (!r || r->status != 200) fail("release", r);
                        break;
                    }
                    default: {
                        const int part = random() % 2 == 0 ? qty : 1;
                        const auto c = until_not_busy([&] {
                            return client.post(confirm_path(order), json{{"lines", json::array({item("LAMP", part)})}}.dump());
                        });
                        if (!c || c->status != 202) {
                            fail("confirm", c);
                            break;
                        }
                        const std::lock_guard lock(mutex);
                        confirmed.push_back({order, part, first_batchref(c->body, "allocations")});
                        CHECK(confirmed.back().batch == batchref);
                    }
                }
            }
        });
    }
    for (auto& c : clients) c.join();
    CHECK_MESSAGE(unexpected.empty(), (unexpected.empty() ? "" : unexpected.front()));
    CHECK(refused > 0);  // the demand is larger than the stock
    CHECK_FALSE(live.empty());
    CHECK_FALSE(confirmed.empty());

    // No batch has more allocated and held than it has, in the database or as either process sees it.
    const auto now = std::to_string(now_ms());
    CHECK(db.column("SELECT b.ref FROM batches b WHERE b.purchased < "
                    "(SELECT coalesce(sum(a.qty), 0) FROM allocations a WHERE a.batch_ref = b.ref) + "
                    "(SELECT coalesce(sum(h.qty), 0) FROM holds h WHERE h.batch_ref = b.ref AND h.expires_at > " +
                    now + ")")
              .empty());
    // Exactly the acknowledged allocations and live holds are stored.
    const auto to_set = [](const std::vector<acknowledged>& list) {
        std::set<std::string> out;
        for (const auto& a : list) out.insert(a.order + "/" + a.batch + "/" + std::to_string(a.qty));
        return out;
    };
    const auto stored_allocations = db.column("SELECT orderid || '/' || batch_ref || '/' || qty FROM allocations");
    CHECK(std::set<std::string>(stored_allocations.begin(), stored_allocations.end()) == to_set(confirmed));
    CHECK(stored_allocations.size() == confirmed.size());
    const auto stored_holds = db.column("SELECT orderid || '/' || batch_ref || '/' || qty FROM holds WHERE expires_at > " + now);
    CHECK(std::set<std::string>(stored_holds.begin(), stored_holds.end()) == to_set(live));
    int used = 0;
    for (const auto& a : confirmed) used += a.qty;
    for (const auto& a : live) used += a.qty;
    for (auto* svc : {&first, &second}) {
        auto product = svc->get("/products/LAMP").data;
        CHECK(product["available"] == 100 - used);
        for (const auto& b : product["batches"]) CHECK(b["available"].get<int>() >= 0);
    }
    for (std::size_t i = 0; i < live.size(); i += 3) {
        auto& other = i % 2 == 0 ? second : first;
        CHECK(other.get("/holds/" + live[i].order).data["lines"] == json::array({placed_line("LAMP", live[i].qty, live[i].batch)}));
    }
    for (std::size_t i = 0; i < confirmed.size(); i += 3) {
        auto& other = i % 2 == 0 ? first : second;
        CHECK(other.get("/allocations/" + confirmed[i].order).data == json::array({allocation_row("LAMP", confirmed[i].batch)}));
    }
}

}  // TEST_SUITE
