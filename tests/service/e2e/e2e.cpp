// End-to-end tests of allocation-service: each test starts the real executable on a free port,
// with a database of its own (an SQLite file; with ALLOCATION_SERVICE_E2E_DATABASE=postgresql a
// PostgreSQL schema) and its own redis-server on 127.0.0.1, and drives it over HTTP and Redis as
// a client of the reference service would.
// SPDX-License-Identifier: MIT
#include "e2e/service.hpp"

#include <signal.h>  // SIGTERM

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

using namespace allocation::test::e2e;
using allocation::test::child_process;


TEST_SUITE("service-e2e") {

TEST_CASE("the happy path: batches added, a line allocated to the earliest batch, its allocation listed") {
    service svc;
    CHECK(svc.get("/health").data == json{{"status", "ok"}});
    CHECK(svc.post("/add_batch", batch("later", "LAMP", 100, "2011-01-03")).status == 201);
    CHECK(svc.post("/add_batch", batch("early", "LAMP", 100, "2011-01-02")).status == 201);
    CHECK(svc.post("/add_batch", batch("other", "TABLE", 100)).status == 201);
    const auto a = svc.post("/allocate", line("o1", "LAMP", 3));
    CHECK(a.status == 202);
    CHECK(a.data == json{{"batchref", "early"}});
    const auto list = svc.get("/allocations/o1");
    CHECK(list.status == 200);
    CHECK(list.data == json::array({{{"sku", "LAMP"}, {"batchref", "early"}}}));
    const auto product = svc.get("/products/LAMP");
    CHECK(product.status == 200);
    CHECK(product.data["available"] == 197);
    CHECK(product.data["batches"][0]["ref"] == "early");
    CHECK(product.data["batches"][0]["available"] == 97);
    CHECK(product.data["batches"][0]["eta"] == "2011-01-02");
}

TEST_CASE("an unknown sku is answered 400 with the reference service's message") {
    service svc;
    const auto a = svc.post("/allocate", line("o1", "NO-SUCH-SKU", 1));
    CHECK(a.status == 400);
    CHECK(a.data == json{{"message", "Invalid sku NO-SUCH-SKU"}});
    CHECK(svc.get("/allocations/o1").status == 404);
}

TEST_CASE("a line no batch can take is answered 409 with a message and allocates nothing") {
    service svc;
    REQUIRE(svc.post("/add_batch", batch("b1", "LAMP", 10)).status == 201);
    const auto a = svc.post("/allocate", line("o1", "LAMP", 11));
    CHECK(a.status == 409);
    CHECK_FALSE(a.message().empty());
    CHECK(svc.get("/products/LAMP").data["available"] == 10);
    CHECK(svc.get("/allocations/o1").status == 404);
}

TEST_CASE("a resubmitted request is answered as the first time without a second allocation") {
    service svc;
    REQUIRE(svc.post("/add_batch", batch("b1", "LAMP", 10)).status == 201);
    SUBCASE("the same order line sent again") {
        CHECK(svc.post("/allocate", line("o1", "LAMP", 3)).data == json{{"batchref", "b1"}});
        const auto again = svc.post("/allocate", line("o1", "LAMP", 3));
        CHECK(again.status == 202);
        CHECK(again.data == json{{"batchref", "b1"}});
        CHECK(svc.get("/products/LAMP").data["available"] == 7);
        CHECK(svc.post("/allocate", line("o1", "LAMP", 4)).status == 409);  // another quantity
    }
    SUBCASE("the same Idempotency-Key and body replay the first answer; another body is 422") {
        const header_list key{{"Idempotency-Key", "retry-1"}};
        const auto first = svc.post("/orders", json{{"orderid", "o2"}, {"lines", {{{"sku", "LAMP"}, {"qty", 2}}}}}, key);
        CHECK(first.status == 202);
        const auto replay = svc.post("/orders", json{{"orderid", "o2"}, {"lines", {{{"sku", "LAMP"}, {"qty", 2}}}}}, key);
        CHECK(replay.status == first.status);
        CHECK(replay.body == first.body);
        CHECK(svc.get("/products/LAMP").data["available"] == 8);
        const auto other = svc.post("/orders", json{{"orderid", "o2"}, {"lines", {{{"sku", "LAMP"}, {"qty", 5}}}}}, key);
        CHECK(other.status == 422);
        CHECK_FALSE(other.message().empty());
        CHECK(svc.get("/products/LAMP").data["available"] == 8);
    }
}

TEST_CASE("an order is allocated in full or not at all") {
    service svc;
    REQUIRE(svc.post("/add_batch", batch("chairs", "CHAIR", 10)).status == 201);
    REQUIRE(svc.post("/add_batch", batch("tables", "TABLE", 1)).status == 201);
    SUBCASE("every line fits: every line allocated, same SKU lines summed") {
        const auto a = svc.post("/orders", json{{"orderid", "o1"},
                                                {"lines", {{{"sku", "CHAIR"}, {"qty", 4}}, {{"sku", "TABLE"}, {"qty", 1}},
                                                           {{"sku", "CHAIR"}, {"qty", 2}}}}});
        CHECK(a.status == 202);
        CHECK(a.data["orderid"] == "o1");
        CHECK(a.data["allocations"] == json::array({{{"sku", "CHAIR"}, {"qty", 6}, {"batchref", "chairs"}},
                                                    {{"sku", "TABLE"}, {"qty", 1}, {"batchref", "tables"}}}));
        CHECK(svc.get("/products/CHAIR").data["available"] == 4);
    }
    SUBCASE("one line does not fit: 409 and nothing of the order allocated") {
        const auto a = svc.post("/orders", json{{"orderid", "o1"},
                                                {"lines", {{{"sku", "CHAIR"}, {"qty", 4}}, {{"sku", "TABLE"}, {"qty", 2}}}}});
        CHECK(a.status == 409);
        CHECK_FALSE(a.message().empty());
        CHECK(svc.get("/products/CHAIR").data["available"] == 10);
        CHECK(svc.get("/products/TABLE").data["available"] == 1);
        CHECK(svc.get("/allocations/o1").status == 404);
    }
    SUBCASE("one line names an unknown SKU: 400 naming it, nothing allocated") {
        const auto a = svc.post("/orders", json{{"orderid", "o1"},
                                                {"lines", {{{"sku", "CHAIR"}, {"qty", 4}}, {{"sku", "SOFA"}, {"qty", 1}}}}});
        CHECK(a.status == 400);
        CHECK(a.message() == "Invalid sku SOFA");
        CHECK(svc.get("/products/CHAIR").data["available"] == 10);
    }
}

TEST_CASE("a line is deallocated once, and a line that is not allocated is 404") {
    service svc;
    REQUIRE(svc.post("/add_batch", batch("b1", "LAMP", 10)).status == 201);
    REQUIRE(svc.post("/allocate", line("o1", "LAMP", 3)).status == 202);
    CHECK(svc.post("/deallocate", json{{"orderid", "o1"}, {"sku", "LAMP"}, {"qty", 4}}).status == 409);
    const auto d = svc.post("/deallocate", json{{"orderid", "o1"}, {"sku", "LAMP"}});
    CHECK(d.status == 200);
    CHECK(d.data == json{{"batchref", "b1"}});
    CHECK(svc.post("/deallocate", json{{"orderid", "o1"}, {"sku", "LAMP"}}).status == 404);
    CHECK(svc.get("/products/LAMP").data["available"] == 10);
    CHECK(svc.get("/allocations/o1").status == 404);
}

TEST_CASE("malformed requests are answered 4xx with a JSON message and change nothing") {
    service svc;
    REQUIRE(svc.post("/add_batch", batch("b1", "LAMP", 10)).status == 201);
    REQUIRE(svc.post("/allocate", line("o0", "LAMP", 1)).status == 202);
    const auto before = svc.get("/products/LAMP").body;
    const std::string long_id(10'000, 'x');

    const std::vector<bad_request> table = {
        {"not JSON", "/allocate", "orderid=o1&sku=LAMP&qty=1", 400},
        {"empty body", "/allocate", "", 400},
        {"a JSON array", "/allocate", "[1, 2]", 400},
        {"missing orderid", "/allocate", R"({"sku": "LAMP", "qty": 1})", 400},
        {"missing sku", "/allocate", R"({"orderid": "o1", "qty": 1})", 400},
        {"missing qty", "/allocate", R"({"orderid": "o1", "sku": "LAMP"})", 400},
        {"sku a number", "/allocate", R"({"orderid": "o1", "sku": 7, "qty": 1})", 400},
        {"qty 0", "/allocate", line("o1", "LAMP", 0).dump(), 400},
        {"qty -1", "/allocate", line("o1", "LAMP", -1).dump(), 400},
        {"qty 2^31", "/allocate", line("o1", "LAMP", 2147483648LL).dump(), 400},
        {"qty 1.5", "/allocate", line("o1", "LAMP", 1.5).dump(), 400},
        {"qty \"3\"", "/allocate", line("o1", "LAMP", "3").dump(), 400},
        {"qty true", "/allocate", line("o1", "LAMP", true).dump(), 400},
        {"orderid of 10 kB", "/allocate", line(long_id, "LAMP", 1).dump(), 400},
        {"sku of 10 kB", "/allocate", line("o1", long_id, 1).dump(), 400},
        {"sku with a control character", "/allocate", line("o1", "LA\nMP", 1).dump(), 400},
        {"batch with a bad eta", "/add_batch", batch("b2", "LAMP", 5, "2011-02-30").dump(), 400},
        {"batch with a 10 kB ref", "/add_batch", batch(long_id, "LAMP", 5).dump(), 400},
        {"batch with a negative qty", "/add_batch", batch("b2", "LAMP", -5).dump(), 400},
        {"order without lines", "/orders", R"({"orderid": "o1", "lines": []})", 400},
        {"order lines not objects", "/orders", R"({"orderid": "o1", "lines": ["LAMP"]})", 400},
        {"order line qty 1.5", "/orders", R"({"orderid": "o1", "lines": [{"sku": "LAMP", "qty": 1.5}]})", 400},
        {"change of an unknown batch", "/change_batch_quantity", R"({"batchref": "nope", "qty": 1})", 404},
        {"change to a negative qty", "/change_batch_quantity", R"({"batchref": "b1", "qty": -1})", 400},
        {"deallocate without sku", "/deallocate", R"({"orderid": "o0"})", 400},
        {"unknown path", "/allocate_all", R"({})", 404},
        {"body over 1 MB", "/allocate", std::string(1024 * 1024 + 1, ' '), 413},
    };
    check_refused(svc, table);
    SUBCASE("wrong methods and unknown paths") {
        CHECK(svc.get("/allocate").status == 405);
        CHECK(svc.request("DELETE", "/allocations/o0").status == 405);
        CHECK(svc.request("PUT", "/add_batch").status == 405);
        const auto unknown = svc.get("/no/such/path");
        CHECK(unknown.status == 404);
        CHECK_FALSE(unknown.message().empty());
        CHECK(svc.get("/products/NOPE").status == 404);
    }
    CHECK(svc.get("/products/LAMP").body == before);
    CHECK(svc.get("/allocations/o1").status == 404);
    CHECK(svc.get("/health").status == 200);
}

TEST_CASE("deeply nested or duplicate-key bodies are answered 400, with or without an Idempotency-Key, and change nothing") {
    service svc;
    REQUIRE(svc.post("/add_batch", batch("b1", "LAMP", 10)).status == 201);
    REQUIRE(svc.post("/allocate", line("o0", "LAMP", 1)).status == 202);
    const auto before = svc.get("/products/LAMP").body;

    struct hostile_body {
        const char* what;
        std::string path;
        std::string body;
        std::string message;
    };
    const std::string too_deep = "request body is nested deeper than 64 levels";
    const std::vector<hostile_body> table = {
        {"800 kB of [", "/allocate", std::string(800'000, '['), too_deep},
        {"100 k levels of objects", "/orders", [] {
             std::string b;
             for (int i = 0; i < 100'000; ++i) b += R"({"a":)";
             return b;
         }(), too_deep},
        {"65 closed levels", "/allocate", std::string(65, '[') + std::string(65, ']'), too_deep},
        {"a deep unknown field", "/allocate",
         R"({"orderid": "o1", "sku": "LAMP", "qty": 1, "note": )" + std::string(64, '[') + std::string(64, ']') + "}", too_deep},
        {"qty twice", "/allocate", R"({"orderid": "o1", "sku": "LAMP", "qty": 1, "qty": 1})", R"(request body has duplicate key "qty")"},
        {"a line's sku twice", "/orders", R"({"orderid": "o1", "lines": [{"sku": "LAMP", "qty": 1, "sku": "LAMP"}]})",
         R"(request body has duplicate key "sku")"},
        {"a batch's ref twice", "/add_batch", R"({"ref": "b2", "sku": "LAMP", "qty": 5, "ref": "b3"})",
         R"(request body has duplicate key "ref")"},
    };
    int n = 0;
    for (const auto& t : table) {
        CAPTURE(t.what);
        for (const bool with_key : {false, true}) {
            CAPTURE(with_key);
            const header_list headers =
                with_key ? header_list{{"Idempotency-Key", "hostile-" + std::to_string(++n)}} : header_list{};
            const auto a = svc.post(t.path, t.body, headers);
            CHECK(a.status == 400);
            CHECK(a.message() == t.message);
            if (with_key) {  // the refusal is kept as the key's answer like any other
                const auto again = svc.post(t.path, t.body, headers);
                CHECK(again.status == 400);
                CHECK(again.body == a.body);
            }
            REQUIRE_FALSE(svc.process().wait(0ms));  // still running
            CHECK(svc.get("/health").status == 200);
        }
    }
    CHECK(svc.get("/products/LAMP").body == before);
    CHECK(svc.get("/allocations/o1").status == 404);
}

TEST_CASE("a client of the reference sending ISO 8601 date-times for eta gets the dates it meant") {
    service svc;
    // What Python's datetime.isoformat() and its variants send; the date part is kept.
    CHECK(svc.post("/add_batch", batch("b-midnight", "LAMP", 10, "2011-01-03T00:00:00")).status == 201);
    CHECK(svc.post("/add_batch", batch("b-offset", "LAMP", 10, "2011-01-02T23:59:59.999999-05:00")).status == 201);
    CHECK(svc.post("/add_batch", batch("b-zulu", "LAMP", 10, "2011-01-04T10:00Z")).status == 201);
    CHECK(svc.post("/add_batch", batch("b-date", "LAMP", 10, "2011-01-05")).status == 201);
    CHECK(svc.post("/add_batch", json{{"ref", "b-absent"}, {"sku", "TABLE"}, {"qty", 10}}).status == 201);
    const auto product = svc.get("/products/LAMP");
    REQUIRE(product.status == 200);
    std::vector<std::pair<std::string, std::string>> etas;
    for (const auto& b : product.data["batches"]) etas.emplace_back(b["ref"], b["eta"]);
    CHECK(etas == std::vector<std::pair<std::string, std::string>>{
                      {"b-offset", "2011-01-02"}, {"b-midnight", "2011-01-03"}, {"b-zulu", "2011-01-04"}, {"b-date", "2011-01-05"}});
    CHECK(svc.get("/products/TABLE").data["batches"][0]["eta"].is_null());
    CHECK(svc.post("/allocate", line("o1", "LAMP", 3)).data == json{{"batchref", "b-offset"}});

    const auto before = svc.get("/products/LAMP").body;
    for (const char* eta : {"2011-01-02T24:00:00", "2011-01-02T10:00+24:00", "2011-02-30T00:00:00", "2011-01-02T"}) {
        CAPTURE(eta);
        const auto a = svc.post("/add_batch", batch("b-bad", "LAMP", 10, eta));
        CHECK(a.status == 400);
        CHECK_FALSE(a.message().empty());
    }
    const auto zero = svc.post("/add_batch", batch("b-zero", "LAMP", 0));
    CHECK(zero.status == 400);
    CHECK(zero.message() == "qty must be an integer from 1 to 2147483647");
    CHECK(svc.get("/products/LAMP").body == before);
    REQUIRE_FALSE(svc.process().wait(0ms));
}

TEST_CASE("a batch quantity change from Redis reallocates the line and publishes line_allocated") {
    if (!have_redis_server()) {
        MESSAGE("redis-server not found, skipped");
        return;
    }
    service svc;
    channel_log allocated;
    auto listener = svc.listen("line_allocated", allocated);
    REQUIRE(svc.post("/add_batch", batch("in-stock", "LAMP", 10)).status == 201);
    REQUIRE(svc.post("/add_batch", batch("shipment", "LAMP", 10, "2011-01-02")).status == 201);
    REQUIRE(svc.post("/allocate", line("o1", "LAMP", 3)).data == json{{"batchref", "in-stock"}});
    REQUIRE(svc.post("/allocate", line("o2", "LAMP", 5)).data == json{{"batchref", "in-stock"}});
    CHECK(allocated.wait_for({{"orderid", "o2"}, {"sku", "LAMP"}, {"qty", 5}, {"batchref", "in-stock"}}, 5s));

    wait_for_service_subscription(svc.redis()->port());
    svc.publish("change_batch_quantity", R"({"batchref": "in-stock", "qty": 4})");
    svc.publish("change_batch_quantity", "not json at all");  // logged and skipped
    // o2, the most recent line, no longer fits and moves to the shipment.
    CHECK(allocated.wait_for({{"orderid", "o2"}, {"sku", "LAMP"}, {"qty", 5}, {"batchref", "shipment"}}, 10s));
    CHECK(svc.get("/allocations/o2").data == json::array({{{"sku", "LAMP"}, {"batchref", "shipment"}}}));
    CHECK(svc.get("/allocations/o1").data == json::array({{{"sku", "LAMP"}, {"batchref", "in-stock"}}}));
    CHECK(svc.get("/health").status == 200);
}

TEST_CASE("the HTTP change_batch_quantity does the same as the Redis message") {
    service svc;
    REQUIRE(svc.post("/add_batch", batch("in-stock", "LAMP", 10)).status == 201);
    REQUIRE(svc.post("/add_batch", batch("shipment", "LAMP", 10, "2011-01-02")).status == 201);
    REQUIRE(svc.post("/allocate", line("o1", "LAMP", 8)).status == 202);
    const auto a = svc.post("/change_batch_quantity", json{{"batchref", "in-stock"}, {"qty", 2}});
    CHECK(a.status == 200);
    CHECK(svc.get("/allocations/o1").data == json::array({{{"sku", "LAMP"}, {"batchref", "shipment"}}}));
}

TEST_CASE("SIGTERM stops the service with exit code 0 after the requests in flight") {
    service svc;
    REQUIRE(svc.post("/add_batch", batch("b1", "LAMP", 10)).status == 201);
    svc.process().signal(SIGTERM);
    const auto code = svc.process().wait(10s);
    REQUIRE(code);
    CHECK(*code == 0);
}

TEST_CASE("GET /metrics tells requests by route and status, their latency, requests in flight, commits, outbox and Redis") {
    service svc;
    REQUIRE(svc.post("/add_batch", batch("b1", "LAMP", 10)).status == 201);
    REQUIRE(svc.post("/allocate", line("o1", "LAMP", 3)).status == 202);
    REQUIRE(svc.post("/allocate", line("o2", "LAMP", 30)).status == 409);
    REQUIRE(svc.get("/nope").status == 404);
    allocation::test::http_client client(svc.port());
    const auto a = client.get("/metrics");
    REQUIRE(a);
    CHECK(a->status == 200);
    CHECK(a->header("Content-Type").starts_with("text/plain; version=0.0.4"));
    const auto& text = a->body;
    for (const char* expected : {"allocation_http_requests_total{route=\"/allocate\",status=\"202\"} 1\n",
                                 "allocation_http_requests_total{route=\"/allocate\",status=\"409\"} 1\n",
                                 "allocation_http_requests_total{route=\"/add_batch\",status=\"201\"} 1\n",
                                 "allocation_http_requests_total{route=\"other\",status=\"404\"} 1\n",
                                 "allocation_http_request_duration_seconds_count{route=\"/allocate\"} 2\n",
                                 "allocation_http_request_duration_seconds_bucket{route=\"/allocate\",le=\"+Inf\"} 2\n",
                                 "# TYPE allocation_http_requests_in_flight gauge\nallocation_http_requests_in_flight 1\n",
                                 "# TYPE allocation_outbox_pending gauge\n", "# TYPE allocation_outbox_relay_lag_seconds gauge\n"}) {
        CHECK_MESSAGE(text.find(expected) != std::string::npos, expected);
    }
    if (!use_postgres()) CHECK(text.find("# TYPE allocation_store_commits_total counter\n") != std::string::npos);
    if (have_redis_server()) {
        CHECK(text.find("allocation_redis_connected{client=\"relay\"}") != std::string::npos);
        CHECK(text.find("allocation_redis_connected{client=\"subscriber\"}") != std::string::npos);
    }
    // Every line is a comment or `name{labels} value`.
    std::size_t start = 0;
    while (start < text.size()) {
        const auto end = text.find('\n', start);
        REQUIRE(end != std::string::npos);
        const auto l = text.substr(start, end - start);
        CAPTURE(l);
        CHECK((l.starts_with("# HELP ") || l.starts_with("# TYPE ") || (l.starts_with("allocation_") && l.rfind(' ') != std::string::npos)));
        start = end + 1;
    }
}

TEST_CASE("with --log-format json every log line is one JSON object, requests with their fields") {
    database db;
    allocation::test::temp_dir dir;
    const auto log_file = (dir.path() / "service.log").string();
    {
        service svc(db, nullptr, {"--log-format", "json"}, log_file);
        REQUIRE(svc.post("/add_batch", batch("b1", "LAMP", 10)).status == 201);
        REQUIRE(svc.get("/products/LAMP").status == 200);
        CHECK(svc.stop() == 0);
    }
    std::ifstream in(log_file);
    std::string text;
    int requests = 0;
    int lines = 0;
    while (std::getline(in, text)) {
        CAPTURE(text);
        ++lines;
        const auto j = json::parse(text, nullptr, false);
        REQUIRE(j.is_object());
        CHECK(j["time"].is_string());
        if (j.contains("status")) {
            ++requests;
            CHECK(j["method"].is_string());
            CHECK(j["path"].is_string());
            CHECK(j["remote"] == "127.0.0.1");
            CHECK(j["bytes"].is_number_unsigned());
            CHECK(j["duration_ms"].is_number());
        } else {
            CHECK(j["message"].is_string());
        }
    }
    CHECK(lines > requests);
    CHECK(requests == 2);
}

TEST_CASE("the service answers --help with every option and a bad option with exit code 2") {
    {
        child_process help({ALLOCATION_SERVICE_PATH, "--help"});
        std::string text;
        while (auto l = help.read_line(5s)) text += *l + "\n";
        CHECK(help.wait(5s) == 0);
        for (const char* option : {"--host", "--port", "--database", "--redis", "--reorder-point", "DATABASE_URL", "REDIS_URL",
                                   "--log-format", "ALLOCATION_LOG_FORMAT"}) {
            CHECK_MESSAGE(text.find(option) != std::string::npos, option);
        }
    }
    child_process bad({ALLOCATION_SERVICE_PATH, "--port", "seventy"});
    CHECK(bad.wait(5s) == 2);
}

TEST_CASE("a reorder point makes the service publish low_stock once per crossing") {
    if (!have_redis_server()) {
        MESSAGE("redis-server not found, skipped");
        return;
    }
    service svc({"--reorder-point", "5"});
    channel_log low;
    auto listener = svc.listen("low_stock", low);
    REQUIRE(svc.post("/add_batch", batch("b1", "LAMP", 10)).status == 201);
    REQUIRE(svc.post("/allocate", line("o1", "LAMP", 6)).status == 202);
    CHECK(low.wait_for({{"sku", "LAMP"}, {"available", 4}, {"reorder_qty", 1}}, 5s));
}

TEST_CASE("concurrent allocations of one SKU never take more than the batch holds") {
    service svc;
    REQUIRE(svc.post("/add_batch", batch("b1", "LAMP", 100)).status == 201);
    constexpr int threads = 8;
    constexpr int per_thread = 40;
    std::atomic<int> accepted{0};
    std::atomic<int> refused{0};
    std::atomic<int> other{0};
    std::vector<std::thread> clients;
    for (int t = 0; t < threads; ++t) {
        clients.emplace_back([&, t] {
            allocation::test::http_client client(svc.port());
            for (int i = 0; i < per_thread; ++i) {
                const auto body = line("t" + std::to_string(t) + "-" + std::to_string(i), "LAMP", 1).dump();
                const auto r = client.post("/allocate", body);
                if (r && r->status == 202) {
                    ++accepted;
                } else if (r && r->status == 409) {
                    ++refused;
                } else {
                    ++other;
                }
            }
        });
    }
    for (auto& c : clients) c.join();
    CHECK(accepted == 100);
    CHECK(refused == threads * per_thread - 100);
    CHECK(other == 0);
    const auto product = svc.get("/products/LAMP").data;
    CHECK(product["available"] == 0);
    CHECK(product["batches"][0]["allocated"] == 100);
}

TEST_CASE("when Redis restarts the service publishes what happened meanwhile and subscribes again") {
    if (!have_redis_server()) {
        MESSAGE("redis-server not found, skipped");
        return;
    }
    service svc;
    REQUIRE(svc.post("/add_batch", batch("in-stock", "LAMP", 10)).status == 201);
    REQUIRE(svc.post("/add_batch", batch("shipment", "LAMP", 10, "2011-01-02")).status == 201);
    wait_for_service_subscription(svc.redis()->port());

    svc.redis()->stop();
    CHECK(svc.post("/allocate", line("o1", "LAMP", 8)).data == json{{"batchref", "in-stock"}});
    // Down long enough for the service's retry delay to grow past the time the listener below
    // needs to subscribe.
    std::this_thread::sleep_for(1s);
    svc.redis()->start();
    channel_log allocated;
    auto listener = svc.listen("line_allocated", allocated);
    CHECK(allocated.wait_for({{"orderid", "o1"}, {"sku", "LAMP"}, {"qty", 8}, {"batchref", "in-stock"}}, 15s));

    wait_for_service_subscription(svc.redis()->port());
    svc.publish("change_batch_quantity", R"({"batchref": "in-stock", "qty": 5})");
    CHECK(allocated.wait_for({{"orderid", "o1"}, {"sku", "LAMP"}, {"qty", 8}, {"batchref", "shipment"}}, 10s));
}

TEST_CASE("a restarted service keeps its allocations and its Idempotency-Key answers") {
    database db;
    const header_list key{{"Idempotency-Key", "order-o1"}};
    const auto order = json{{"orderid", "o1"}, {"lines", {{{"sku", "LAMP"}, {"qty", 2}}}}};
    answer first;
    {
        service svc(db, nullptr);
        REQUIRE(svc.post("/add_batch", batch("b1", "LAMP", 10)).status == 201);
        first = svc.post("/orders", order, key);
        REQUIRE(first.status == 202);
        REQUIRE(svc.post("/allocate", line("o2", "LAMP", 3)).status == 202);
        CHECK(svc.stop() == 0);
    }
    service svc(db, nullptr);
    CHECK(svc.get("/allocations/o1").data == json::array({{{"sku", "LAMP"}, {"batchref", "b1"}}}));
    CHECK(svc.get("/allocations/o2").data == json::array({{{"sku", "LAMP"}, {"batchref", "b1"}}}));
    const auto replay = svc.post("/orders", order, key);
    CHECK(replay.status == first.status);
    CHECK(replay.body == first.body);
    CHECK(svc.post("/orders", json{{"orderid", "o1"}, {"lines", {{{"sku", "LAMP"}, {"qty", 3}}}}}, key).status == 422);
    CHECK(svc.post("/allocate", line("o2", "LAMP", 3)).data == json{{"batchref", "b1"}});  // the same line again
    CHECK(svc.get("/products/LAMP").data["available"] == 5);
}

namespace {
/// A POST under an Idempotency-Key, its answer with its Idempotent-Replayed header.
struct keyed_answer {
    int status = 0;
    std::string body;
    bool replayed = false;
};
auto post_keyed(int port, const std::string& path, const json& body, const std::string& key) -> keyed_answer {
    allocation::test::http_client client(port);
    const auto r = client.post(path, body.dump(), {{"Idempotency-Key", key}});
    REQUIRE(r);
    return {r->status, r->body, r->header("Idempotent-Replayed") == "true"};
}
}  // namespace

TEST_CASE("every POST answers its Idempotency-Key from the inbox: successes and refusals, replayed as first answered") {
    database db;
    std::vector<std::string> args;
    SUBCASE("on the database") {}
    SUBCASE("in memory") { args = {"--database", "memory://"}; }
    service svc(db, nullptr, args);
    const auto port = svc.port();
    struct step {
        const char* what;
        std::string path;
        json body;
        int status;
    };
    // Each request is answered, then the world changes so that doing it again would answer
    // otherwise; the same request under its key is still answered as the first time.
    const std::vector<step> steps = {
        {"a batch", "/add_batch", batch("b1", "LAMP", 10), 201},
        {"an unknown SKU", "/allocate", line("o1", "SOFA", 1), 400},
        {"out of stock", "/allocate", line("o2", "LAMP", 11), 409},
        {"an allocation", "/allocate", line("o3", "LAMP", 2), 202},
        {"an order", "/orders", json{{"orderid", "o4"}, {"lines", {{{"sku", "LAMP"}, {"qty", 1}}}}}, 202},
        {"an order out of stock", "/orders", json{{"orderid", "o5"}, {"lines", {{{"sku", "LAMP"}, {"qty", 50}}}}}, 409},
        {"a line not allocated", "/deallocate", json{{"orderid", "o6"}, {"sku", "LAMP"}}, 404},
        {"a deallocation", "/deallocate", json{{"orderid", "o3"}, {"sku", "LAMP"}}, 200},
        {"an unknown batch", "/change_batch_quantity", json{{"batchref", "b2"}, {"qty", 5}}, 404},
        {"a batch quantity", "/change_batch_quantity", json{{"batchref", "b1"}, {"qty", 8}}, 200},
        {"a body that cannot be read", "/allocate", json{{"orderid", "o7"}}, 400},
    };
    std::vector<keyed_answer> first;
    for (const auto& s : steps) {
        CAPTURE(s.what);
        first.push_back(post_keyed(port, s.path, s.body, std::string("key-") + s.what));
        CHECK(first.back().status == s.status);
        CHECK_FALSE(first.back().replayed);
    }
    // What would answer otherwise now.
    REQUIRE(svc.post("/add_batch", batch("b2", "SOFA", 100)).status == 201);
    REQUIRE(svc.post("/add_batch", batch("b3", "LAMP", 100)).status == 201);
    REQUIRE(svc.post("/allocate", line("o6", "LAMP", 1)).status == 202);
    REQUIRE(svc.post("/deallocate", json{{"orderid", "o4"}, {"sku", "LAMP"}}).status == 200);
    const auto before = svc.get("/products/LAMP").body;
    for (std::size_t i = 0; i < steps.size(); ++i) {
        const auto& s = steps[i];
        CAPTURE(s.what);
        const auto again = post_keyed(port, s.path, s.body, std::string("key-") + s.what);
        CHECK(again.status == first[i].status);
        CHECK(again.body == first[i].body);
        CHECK(again.replayed);
        auto other = s.body;
        other["extra"] = 1;  // another request under the key
        CHECK(post_keyed(port, s.path, other, std::string("key-") + s.what).status == 422);
    }
    CHECK(svc.get("/products/LAMP").body == before);  // nothing done again
    CHECK(post_keyed(port, "/allocate", line("o2", "LAMP", 11), "a-new-key").status == 202);  // it would fit now
}

TEST_CASE("an Idempotency-Key's answer outlives a restart of the service, a refusal's too") {
    database db;
    const auto dealloc = json{{"orderid", "o1"}, {"sku", "LAMP"}};
    keyed_answer first_dealloc;
    keyed_answer first_refusal;
    keyed_answer first_out_of_stock;
    {
        service svc(db, nullptr);
        REQUIRE(svc.post("/add_batch", batch("b1", "LAMP", 10)).status == 201);
        REQUIRE(svc.post("/allocate", line("o1", "LAMP", 3)).status == 202);
        first_dealloc = post_keyed(svc.port(), "/deallocate", dealloc, "dealloc-1");
        REQUIRE(first_dealloc.status == 200);
        first_out_of_stock = post_keyed(svc.port(), "/allocate", line("o2", "LAMP", 20), "big-1");
        REQUIRE(first_out_of_stock.status == 409);
        first_refusal = post_keyed(svc.port(), "/orders", json{{"orderid", "o3"}}, "refused-1");
        REQUIRE(first_refusal.status == 400);
        CHECK(svc.stop() == 0);
    }
    service svc(db, nullptr);
    REQUIRE(svc.post("/allocate", line("o1", "LAMP", 3)).status == 202);
    REQUIRE(svc.post("/add_batch", batch("b2", "LAMP", 100)).status == 201);
    const auto again = post_keyed(svc.port(), "/deallocate", dealloc, "dealloc-1");
    CHECK(again.status == 200);
    CHECK(again.body == first_dealloc.body);
    CHECK(again.replayed);
    CHECK(svc.get("/allocations/o1").status == 200);  // not deallocated a second time
    const auto big = post_keyed(svc.port(), "/allocate", line("o2", "LAMP", 20), "big-1");
    CHECK(big.status == 409);
    CHECK(big.body == first_out_of_stock.body);
    CHECK(svc.get("/allocations/o2").status == 404);
    CHECK(post_keyed(svc.port(), "/orders", json{{"orderid", "o3"}}, "refused-1").body == first_refusal.body);
    CHECK(post_keyed(svc.port(), "/orders", json{{"orderid", "o3"}, {"lines", {{{"sku", "LAMP"}, {"qty", 1}}}}}, "refused-1")
              .status == 422);
}

TEST_CASE("concurrent requests under one Idempotency-Key do the work once and all get its answer") {
    service svc;
    REQUIRE(svc.post("/add_batch", batch("b1", "LAMP", 10)).status == 201);
    REQUIRE(svc.post("/allocate", line("o1", "LAMP", 3)).status == 202);
    // Deallocating twice would answer 404 the second time: every answer must be the first.
    constexpr int clients = 8;
    std::vector<keyed_answer> answers(clients);
    std::atomic<int> ready{0};
    std::vector<std::thread> pool;
    for (int i = 0; i < clients; ++i) {
        pool.emplace_back([&, i] {
            ++ready;
            while (ready.load() < clients) std::this_thread::yield();
            answers[static_cast<std::size_t>(i)] =
                post_keyed(svc.port(), "/deallocate", json{{"orderid", "o1"}, {"sku", "LAMP"}}, "once");
        });
    }
    for (auto& t : pool) t.join();
    for (const auto& a : answers) {
        CHECK(a.status == 200);
        CHECK(a.body == R"({"batchref":"b1"})");
    }
    CHECK(svc.get("/products/LAMP").data["available"] == 10);
    // And a new key after the line is gone is answered by the domain: not allocated.
    CHECK(post_keyed(svc.port(), "/deallocate", json{{"orderid", "o1"}, {"sku", "LAMP"}}, "twice").status == 404);
}

TEST_CASE("events committed while Redis is not there are published once it is, none lost") {
    if (!have_redis_server()) {
        MESSAGE("redis-server not found, skipped");
        return;
    }
    database db;
    allocation::test::redis_server redis(ALLOCATION_REDIS_SERVER);
    std::vector<json> expected;
    auto allocate_some = [&](service& svc, const std::string& prefix, int n) {
        for (int i = 0; i < n; ++i) {
            const auto order = prefix + std::to_string(i);
            REQUIRE(svc.post("/allocate", line(order, "LAMP", 1)).status == 202);
            expected.push_back({{"orderid", order}, {"sku", "LAMP"}, {"qty", 1}, {"batchref", "b1"}});
        }
    };
    {
        service svc(db, nullptr);  // --redis none: the events stay in the outbox
        REQUIRE(svc.post("/add_batch", batch("b1", "LAMP", 100)).status == 201);
        allocate_some(svc, "none-", 20);
        REQUIRE(svc.post("/allocate", line("too-many", "LAMP", 1000)).status == 409);
        CHECK(svc.stop() == 0);
    }
    redis.stop();
    {
        service svc(db, &redis);  // Redis configured but down
        allocate_some(svc, "down-", 10);
        CHECK(svc.stop() == 0);
    }
    redis.start();
    channel_log allocated;
    channel_log refused;
    auto on_allocated = listen_on(redis.port(), "line_allocated", allocated);
    auto on_refused = listen_on(redis.port(), "out_of_stock", refused);
    service svc(db, &redis);
    CHECK(allocated.wait_for_all(expected, 15s));
    CHECK(refused.wait_for({{"orderid", "too-many"}, {"sku", "LAMP"}, {"qty", 1000}}, 5s));
    CHECK(svc.stop() == 0);
    CHECK(db.column("SELECT count(*) FROM outbox WHERE channel = 'line_allocated'") == std::vector<std::string>{"30"});
}

TEST_CASE("two service processes on one database under concurrent load never oversell, and keep every answer") {
    database db;
    service first(db, nullptr);
    service second(db, nullptr);
    const std::vector<std::string> skus{"CHAIR", "TABLE", "LAMP"};
    for (const auto& s : skus) {
        REQUIRE(first.post("/add_batch", batch(s + "-now", s, 40)).status == 201);
        REQUIRE(second.post("/add_batch", batch(s + "-later", s, 40, "2030-01-01")).status == 201);
    }
    constexpr int threads_per_process = 4;
    constexpr int requests_per_thread = 40;
    struct acknowledged {
        std::string order, sku, batch;
        int qty;
    };
    std::mutex mutex;
    std::vector<acknowledged> acks;
    std::atomic<int> refused{0};
    std::vector<std::string> others;
    std::vector<std::thread> clients;
    for (int t = 0; t < 2 * threads_per_process; ++t) {
        const int port = (t % 2 == 0 ? first : second).port();
        clients.emplace_back([&, t, port] {
            allocation::test::http_client client(port);
            std::mt19937 random(static_cast<std::uint32_t>(t));
            for (int i = 0; i < requests_per_thread; ++i) {
                const auto order = "p" + std::to_string(t) + "-" + std::to_string(i);
                const auto& s = skus[random() % skus.size()];
                const int qty = 1 + static_cast<int>(random() % 3);
                const auto r = client.post("/allocate", line(order, s, qty).dump());
                const std::lock_guard lock(mutex);
                if (r && r->status == 202) {
                    acks.push_back({order, s, json::parse(r->body)["batchref"].get<std::string>(), qty});
                } else if (r && r->status == 409) {
                    ++refused;
                } else {
                    others.push_back(r ? std::to_string(r->status) + " " + r->body : std::string("no answer"));
                }
            }
        });
    }
    for (auto& c : clients) c.join();
    CHECK_MESSAGE(others.empty(), (others.empty() ? "" : others.front()));
    CHECK(acks.size() + static_cast<std::size_t>(refused.load()) + others.size() ==
          std::size_t{2 * threads_per_process * requests_per_thread});
    CHECK(refused > 0);  // the demand is larger than the stock

    // No batch holds more than it has, in the database or as either process sees it.
    CHECK(db.column("SELECT b.ref FROM batches b WHERE b.purchased < "
                    "(SELECT coalesce(sum(a.qty), 0) FROM allocations a WHERE a.batch_ref = b.ref)")
              .empty());
    std::map<std::string, int> acked_per_sku;
    for (const auto& a : acks) acked_per_sku[a.sku] += a.qty;
    for (const auto& s : skus) {
        for (auto* svc : {&first, &second}) {
            const auto product = svc->get("/products/" + s).data;
            CHECK(product["available"].get<int>() >= 0);
            CHECK(80 - product["available"].get<int>() == acked_per_sku[s]);
        }
    }
    // Every acknowledged line is in the database, in the batch its answer named, and nothing else is.
    const auto rows = db.column("SELECT a.orderid || '/' || b.sku || '/' || a.batch_ref || '/' || a.qty "
                                "FROM allocations a JOIN batches b ON b.ref = a.batch_ref");
    const std::set<std::string> stored(rows.begin(), rows.end());
    std::set<std::string> answered;
    for (const auto& a : acks) answered.insert(a.order + "/" + a.sku + "/" + a.batch + "/" + std::to_string(a.qty));
    CHECK(stored.size() == rows.size());
    CHECK(stored == answered);
    for (std::size_t i = 0; i < acks.size(); i += 17) {  // and in the read model, seen from the other process
        auto& other = i % 2 == 0 ? second : first;
        CHECK(other.get("/allocations/" + acks[i].order).data ==
              json::array({{{"sku", acks[i].sku}, {"batchref", acks[i].batch}}}));
    }
}

}  // TEST_SUITE
