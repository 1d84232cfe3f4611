// Tests of examples/service/router.hpp: routes by method and pattern, and the answers for
// requests no route takes.
// SPDX-License-Identifier: MIT
#include "router.hpp"

#include <stdexcept>
#include <string>

#include <doctest/doctest.h>

namespace router_tests {

using namespace allocation::service;

namespace {

auto request(const std::string& method, const std::string& path, const std::string& type = "application/json") -> http_request {
    http_request r;
    r.method = method;
    r.target = path;
    r.path = path;
    if (!type.empty()) r.headers.emplace_back("Content-Type", type);
    return r;
}

auto echo(const std::string& what) -> router::handler {
    return [what](const http_request&, const route_params& p) {
        std::string body = what;
        for (const auto& v : p) body += "|" + v;
        return http_response{200, body, "text/plain", {}};
    };
}

auto answer(const router& r, const http_request& req) -> http_response { return router::run(r.find(req), req); }

}  // namespace

TEST_SUITE("service") {

TEST_CASE("a request goes to the route of its method and path, with its parameters percent-decoded") {
    router r;
    r.post("/allocate", echo("allocate"));
    r.get("/allocations/{orderid}", echo("allocations"));
    r.get("/holds/{orderid}/confirm", echo("confirm"));
    CHECK(answer(r, request("POST", "/allocate")).body == "allocate");
    CHECK(answer(r, request("GET", "/allocations/o1")).body == "allocations|o1");
    CHECK(answer(r, request("GET", "/allocations/a%2Fb%20c")).body == "allocations|a/b c");
    CHECK(answer(r, request("GET", "/holds/o9/confirm")).body == "confirm|o9");
    CHECK(answer(r, request("HEAD", "/allocations/o1")).body == "allocations|o1");
    CHECK(r.routes().at(1).pattern == "/allocations/{orderid}");
    CHECK(r.find(request("GET", "/allocations/o1")).found->index == 1);
}

TEST_CASE("no route is 404 and another method's route 405 with Allow, each with a JSON message") {
    router r;
    r.post("/allocate", echo("allocate"));
    r.get("/products/{sku}", echo("product"));
    for (const auto* path : {"/nope", "/allocate/x", "/products", "/products/", "/products/a/b", "/"}) {
        CAPTURE(path);
        const auto a = answer(r, request("GET", path));
        CHECK(a.status == 404);
        CHECK(a.body.find("\"message\"") != std::string::npos);
    }
    const auto wrong = answer(r, request("GET", "/allocate"));
    CHECK(wrong.status == 405);
    REQUIRE(wrong.headers.size() == 1);
    CHECK(wrong.headers[0] == std::pair<std::string, std::string>{"Allow", "POST"});
    const auto del = answer(r, request("DELETE", "/products/LAMP"));
    CHECK(del.status == 405);
    CHECK(del.headers[0].second == "GET, HEAD");
    CHECK(answer(r, request("GET", "/products/a%zz")).status == 400);
}

TEST_CASE("a path with several methods takes each at its route and lists them all in Allow") {
    router r;
    r.get("/holds/{orderid}", echo("held"));
    r.del("/holds/{orderid}", echo("release"));
    CHECK(answer(r, request("GET", "/holds/o1")).body == "held|o1");
    CHECK(answer(r, request("DELETE", "/holds/o1")).body == "release|o1");
    const auto wrong = answer(r, request("PUT", "/holds/o1"));
    CHECK(wrong.status == 405);
    REQUIRE(wrong.headers.size() == 1);
    CHECK(wrong.headers[0].second == "GET, HEAD, DELETE");
}

TEST_CASE("a JSON endpoint refuses a body declared as anything but application/json with 415") {
    router r;
    r.post("/allocate", echo("allocate"));
    for (const auto* type : {"text/plain", "application/x-www-form-urlencoded", "", "application/jsonx", "json"}) {
        CAPTURE(type);
        CHECK(answer(r, request("POST", "/allocate", type)).status == 415);
    }
    for (const auto* type : {"application/json", "application/json; charset=utf-8", "Application/JSON ;charset=UTF-8"}) {
        CAPTURE(type);
        CHECK(answer(r, request("POST", "/allocate", type)).status == 200);
    }
}

TEST_CASE("an endpoint that throws is answered 500 with a JSON message") {
    router r;
    r.get("/boom", [](const http_request&, const route_params&) -> http_response { throw std::runtime_error("boom"); });
    const auto a = answer(r, request("GET", "/boom"));
    CHECK(a.status == 500);
    CHECK(a.body == R"({"message":"internal error"})");
}

}  // TEST_SUITE
}  // namespace router_tests
