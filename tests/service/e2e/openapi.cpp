// End-to-end test of the OpenAPI document: drives the real allocation-service through every
// documented operation and every status it can be made to answer, and checks each answer's
// status and body against the document the service serves at GET /openapi.json.
// SPDX-License-Identifier: MIT
#include "e2e/service.hpp"

#include <cctype>
#include <chrono>
#include <map>
#include <set>
#include <thread>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "openapi_check.hpp"
#include "openapi_document.hpp"

using namespace allocation::test::e2e;
using allocation::test::http_answer;
using allocation::test::http_client;
using allocation::test::raw_connection;
namespace openapi = allocation::test::openapi;

namespace {

/// Sends requests to a service and checks every answer against the document, recording the
/// (operation, status) pairs seen.
class checker {
public:
    checker(int port, json doc) : port_(port), client_(port), doc_(std::move(doc)) {}

    /// Sends the request; checks that `expected` is answered and that the answer is as documented.
    auto send(const std::string& method, const std::string& path, const std::string& body, int expected,
              http_client::header_list headers = {}) -> json {
        if (method == "POST" && !has(headers, "Content-Type")) headers.emplace_back("Content-Type", "application/json");
        const auto a = client_.request(method, path, body, headers);
        REQUIRE_MESSAGE(a, method << " " << path << ": no answer");
        return check(method, path, *a, expected);
    }

    /// Checks an answer received otherwise (a raw connection).
    auto check(const std::string& method, const std::string& path, const http_answer& a, int expected) -> json {
        CAPTURE(method);
        CAPTURE(path);
        CHECK_MESSAGE(a.status == expected, a.status << " " << a.body);
        for (const auto& e : openapi::answer_errors(doc_, method, path, a.status, a.header("Content-Type"), a.body)) {
            FAIL_CHECK(e);
        }
        if (const auto op = openapi::find_operation(doc_, method, path)) seen_[method + " " + op->path_template].insert(a.status);
        return json::parse(a.body, nullptr, false);
    }

    [[nodiscard]] auto port() const noexcept -> int { return port_; }
    [[nodiscard]] auto doc() const -> const json& { return doc_; }
    /// Statuses seen, by "METHOD /path/{template}".
    [[nodiscard]] auto seen() const -> const std::map<std::string, std::set<int>>& { return seen_; }

private:
    static auto has(const http_client::header_list& headers, const std::string& name) -> bool {
        for (const auto& h : headers) {
            if (h.first == name) return true;
        }
        return false;
    }

    int port_;
    http_client client_;
    json doc_;
    std::map<std::string, std::set<int>> seen_;
};

const std::vector<std::string> post_paths{"/add_batch", "/allocate", "/orders", "/deallocate", "/change_batch_quantity",
                                          "/holds", "/holds/h9/confirm"};

}  // namespace

TEST_SUITE("service-e2e") {

TEST_CASE("every answer of the service is one its OpenAPI document lists, with a body of the documented schema") {
    service svc;
    http_client first(svc.port());
    const auto served = first.get("/openapi.json");
    REQUIRE(served);
    REQUIRE(served->status == 200);
    const auto doc = json::parse(served->body, nullptr, false);
    REQUIRE(doc == json::parse(allocation::service::openapi_document));
    checker c(svc.port(), doc);
    c.send("GET", "/openapi.json", "", 200);
    c.send("GET", "/health", "", 200);
    c.send("GET", "/metrics", "", 200);

    // POST /add_batch
    c.send("POST", "/add_batch", R"({"ref": "b-later", "sku": "LAMP", "qty": 10, "eta": "2011-01-03T10:00:00+02:00"})", 201);
    c.send("POST", "/add_batch", R"({"ref": "b-stock", "sku": "LAMP", "qty": 10})", 201);
    c.send("POST", "/add_batch", R"({"ref": "b-table", "sku": "TABLE", "qty": 2, "eta": "2011-01-02"})", 201);
    c.send("POST", "/add_batch", R"({"ref": "b-stock", "sku": "LAMP", "qty": 11})", 409);
    c.send("POST", "/add_batch", R"({"ref": "b-zero", "sku": "LAMP", "qty": 0})", 400);

    // POST /allocate
    CHECK(c.send("POST", "/allocate", R"({"orderid": "o1", "sku": "LAMP", "qty": 3})", 202) == json{{"batchref", "b-stock"}});
    c.send("POST", "/allocate", R"({"orderid": "o1", "sku": "LAMP", "qty": 3})", 202);
    c.send("POST", "/allocate", R"({"orderid": "o1", "sku": "LAMP", "qty": 4})", 409);
    c.send("POST", "/allocate", R"({"orderid": "o2", "sku": "LAMP", "qty": 1000})", 409);
    c.send("POST", "/allocate", R"({"orderid": "o2", "sku": "NOPE", "qty": 1})", 400);

    // POST /orders
    c.send("POST", "/orders", R"({"orderid": "o3", "lines": [{"sku": "LAMP", "qty": 1}, {"sku": "TABLE", "qty": 1}]})", 202);
    c.send("POST", "/orders", R"({"orderid": "o4", "lines": [{"sku": "LAMP", "qty": 1}, {"sku": "TABLE", "qty": 5}]})", 409);
    c.send("POST", "/orders", R"({"orderid": "o4", "lines": [{"sku": "NOPE", "qty": 1}]})", 400);

    // POST /deallocate
    c.send("POST", "/deallocate", R"({"orderid": "o1", "sku": "LAMP", "qty": 2})", 409);
    c.send("POST", "/deallocate", R"({"orderid": "o1", "sku": "LAMP"})", 200);
    c.send("POST", "/deallocate", R"({"orderid": "o1", "sku": "LAMP"})", 404);

    // POST /change_batch_quantity
    c.send("POST", "/change_batch_quantity", R"({"batchref": "b-stock", "qty": 5})", 200);
    c.send("POST", "/change_batch_quantity", R"({"batchref": "nope", "qty": 5})", 404);

    const std::string too_large(1024 * 1024 + 1, ' ');
    const http_client::header_list many_headers = [] {
        http_client::header_list h;
        for (int i = 0; i < 120; ++i) h.emplace_back("X-Pad-" + std::to_string(i), "x");
        return h;
    }();
    int key = 0;

    // POST /orders under the partial and backorder policies
    c.send("POST", "/orders", R"({"orderid": "o5", "lines": [{"sku": "TABLE", "qty": 5}], "policy": "partial"})", 202);
    c.send("POST", "/orders", R"({"orderid": "o6", "lines": [{"sku": "TABLE", "qty": 1}], "policy": "partial"})", 409);
    c.send("POST", "/orders", R"({"orderid": "o7", "lines": [{"sku": "TABLE", "qty": 2}], "policy": "backorder", "priority": 2})", 202);
    c.send("POST", "/orders", R"({"orderid": "o7", "lines": [{"sku": "TABLE", "qty": 2}], "policy": "sometimes"})", 400);

    // GET /backorders/{sku}, DELETE /backorders/{sku}/{orderid}
    CHECK(c.send("GET", "/backorders/TABLE", "", 200) == json::array({{{"orderid", "o7"}, {"qty", 2}, {"priority", 2}}}));
    c.send("GET", "/backorders/NOPE", "", 404);
    c.send("GET", "/backorders/" + std::string(256, 'x'), "", 400);
    c.send("DELETE", "/backorders/TABLE/o7", "", 200);
    c.send("DELETE", "/backorders/TABLE/o7", "", 404);
    c.send("DELETE", "/backorders/TABLE/o%01", "", 400);

    // POST /holds, GET and DELETE /holds/{orderid}, POST /holds/{orderid}/confirm
    c.send("POST", "/add_batch", R"({"ref": "b-desk", "sku": "DESK", "qty": 10})", 201);
    const auto held = c.send("POST", "/holds", R"({"orderid": "h1", "lines": [{"sku": "DESK", "qty": 4}], "ttl": 60})", 201);
    CHECK(c.send("POST", "/holds", R"({"orderid": "h1", "lines": [{"sku": "DESK", "qty": 4}], "ttl": 60})", 200) == held);
    c.send("POST", "/holds", R"({"orderid": "h1", "lines": [{"sku": "DESK", "qty": 5}]})", 409);
    c.send("POST", "/holds", R"({"orderid": "h2", "lines": [{"sku": "DESK", "qty": 7}]})", 409);
    c.send("POST", "/holds", R"({"orderid": "h2", "lines": [{"sku": "NOPE", "qty": 1}]})", 400);
    CHECK(c.send("GET", "/holds/h1", "", 200) == held);
    c.send("GET", "/holds/h2", "", 404);
    c.send("GET", "/holds/" + std::string(256, 'x'), "", 400);
    c.send("POST", "/holds/h1/confirm", R"({"lines": [{"sku": "DESK", "qty": 5}]})", 409);
    c.send("POST", "/holds/h1/confirm", R"({"lines": [{"sku": "DESK", "qty": "5"}]})", 400);
    c.send("POST", "/holds/h1/confirm", R"({"lines": [{"sku": "DESK", "qty": 3}]})", 202);
    c.send("POST", "/holds/h2/confirm", "{}", 404);
    const auto short_hold = c.send("POST", "/holds", R"({"orderid": "h3", "lines": [{"sku": "DESK", "qty": 1}], "ttl": 1})", 201);
    const auto over = parse_utc(short_hold["expires_at"]);
    REQUIRE(over);
    std::this_thread::sleep_until(*over + 50ms);
    c.send("POST", "/holds/h3/confirm", "{}", 410);
    c.send("POST", "/holds", R"({"orderid": "h4", "lines": [{"sku": "DESK", "qty": 1}]})", 201);
    c.send("DELETE", "/holds/h4", "", 200);
    c.send("DELETE", "/holds/h4", "", 404);
    c.send("DELETE", "/holds/" + std::string(256, 'x'), "", 400);
    for (const auto* path : {"/holds/h1", "/backorders/TABLE"}) c.send("GET", path, "", 431, many_headers);
    for (const auto* path : {"/holds/h1", "/backorders/TABLE/o7"}) c.send("DELETE", path, "", 431, many_headers);

    // What every POST answers alike.
    for (const auto& path : post_paths) {
        CAPTURE(path);
        c.send("POST", path, "[", 400);
        c.send("POST", path, std::string(100, '[') + std::string(100, ']'), 400);
        c.send("POST", path, R"({"qty": 1, "qty": 1})", 400);
        c.send("POST", path, "{}", 400, {{"Idempotency-Key", std::string(300, 'k')}});
        c.send("POST", path, too_large, 413);
        c.send("POST", path, "{}", 415, {{"Content-Type", "text/plain"}});
        c.send("POST", path, "{}", 431, many_headers);
        const auto k = "key-" + std::to_string(++key);
        c.send("POST", path, "[]", 400, {{"Idempotency-Key", k}});
        c.send("POST", path, R"({"orderid": "o9"})", 422, {{"Idempotency-Key", k}});
        raw_connection raw(c.port());  // a body of no declared length on a connection kept open
        REQUIRE(raw.send("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\r\n"));
        const auto a = raw.read_answer();
        REQUIRE(a);
        c.check("POST", path, *a, 411);
    }

    // GET /allocations/{orderid} and /products/{sku}
    CHECK(c.send("GET", "/allocations/o3", "", 200).size() == 2);
    c.send("GET", "/allocations/o1", "", 404);
    c.send("GET", "/allocations/" + std::string(256, 'x'), "", 400);
    c.send("GET", "/allocations/o%01", "", 400);
    const auto product = c.send("GET", "/products/LAMP", "", 200);
    CHECK(product["batches"][0]["ref"] == "b-stock");
    CHECK(product["batches"][1]["eta"] == "2011-01-03");
    c.send("GET", "/products/NOPE", "", 404);
    c.send("GET", "/products/" + std::string(256, 'x'), "", 400);
    for (const auto* path : {"/allocations/o3", "/products/LAMP", "/health", "/metrics", "/openapi.json"}) c.send("GET", path, "", 431, many_headers);

    // Every documented operation was exercised, and every status listed for it that a client
    // can provoke was seen; 503 (storage down, too many requests in flight) is left out.
    for (const auto& [path, item] : doc.at("paths").items()) {
        for (const auto& [method, op] : item.items()) {
            std::string upper = method;
            for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
            const auto name = upper + " " + path;
            CAPTURE(name);
            const auto it = c.seen().find(name);
            REQUIRE(it != c.seen().end());
            for (const auto& [status, unused] : op.at("responses").items()) {
                if (status == "503") continue;
                CAPTURE(status);
                CHECK(it->second.contains(std::stoi(status)));
            }
        }
    }
    REQUIRE_FALSE(svc.process().wait(0ms));
}

}  // TEST_SUITE
