// Tests of examples/service/http_server.hpp in process: the bound on requests in flight, idle
// connections that hold no worker, and a stop that answers the requests in flight.
// SPDX-License-Identifier: MIT
#include "http_server.hpp"

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "http_client.hpp"

namespace http_server_tests {

using namespace allocation::service;
using allocation::test::raw_connection;
using namespace std::chrono_literals;

namespace {

/// A router with GET /slow (blocking until released) and GET /fast.
struct slow_routes {
    std::atomic<bool> released{false};
    std::atomic<int> entered{0};
    router routes;

    slow_routes() {
        routes.get("/slow", [this](const http_request&, const route_params&) {
            ++entered;
            while (!released) std::this_thread::sleep_for(1ms);
            return http_response{200, R"({"slow":true})", "application/json", {}};
        });
        routes.get("/fast", [](const http_request&, const route_params&) {
            return http_response{200, R"({"fast":true})", "application/json", {}};
        });
    }
};

auto get(const std::string& path) -> std::string { return "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n"; }

auto started(const router& routes, server_options options) -> std::unique_ptr<http_server> {
    auto server = std::make_unique<http_server>(routes, std::move(options));
    std::string error;
    REQUIRE_MESSAGE(server->listen(error) != 0, error);
    server->start();
    return server;
}

void wait_until(const std::function<bool()>& condition) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!condition()) {
        REQUIRE(std::chrono::steady_clock::now() < deadline);
        std::this_thread::sleep_for(1ms);
    }
}

}  // namespace

TEST_SUITE("service") {

TEST_CASE("a request beyond the bound on requests in flight is answered 503 with a JSON message") {
    slow_routes app;
    server_options options;
    options.max_in_flight = 1;
    auto server = started(app.routes, options);
    raw_connection first(server->port());
    REQUIRE(first.send(get("/slow")));
    wait_until([&] { return app.entered == 1; });
    raw_connection second(server->port());
    REQUIRE(second.send(get("/slow")));
    const auto refused = second.read_answer();
    REQUIRE(refused);
    CHECK(refused->status == 503);
    CHECK(refused->body.find("\"message\"") != std::string::npos);
    app.released = true;
    const auto served = first.read_answer();
    REQUIRE(served);
    CHECK(served->status == 200);
    REQUIRE(second.send(get("/fast")));  // the refused connection stays usable
    CHECK(second.read_answer()->status == 200);
}

TEST_CASE("idle and stalled connections hold no worker: one worker serves a request beside fifty of them") {
    slow_routes app;
    app.released = true;
    server_options options;
    options.workers = 1;
    auto server = started(app.routes, options);
    std::vector<raw_connection> quiet;
    for (int i = 0; i < 50; ++i) {
        quiet.emplace_back(server->port());
        if (i % 2 == 0) REQUIRE(quiet.back().send("GET /slow HTTP/1.1\r\nHo"));
    }
    wait_until([&] { return server->connections() == 50; });
    raw_connection c(server->port());
    REQUIRE(c.send(get("/slow")));
    const auto a = c.read_answer();
    REQUIRE(a);
    CHECK(a->status == 200);
}

TEST_CASE("stop answers the request in flight with Connection: close, closes idle connections and returns") {
    slow_routes app;
    auto server = started(app.routes, {});
    raw_connection idle(server->port());
    raw_connection busy(server->port());
    REQUIRE(busy.send(get("/slow")));
    wait_until([&] { return app.entered == 1; });
    auto stopping = std::async(std::launch::async, [&] { server->stop(); });
    CHECK(idle.closed_within(5s));
    app.released = true;
    const auto a = busy.read_answer();
    REQUIRE(a);
    CHECK(a->status == 200);
    CHECK(a->header("Connection") == "close");
    CHECK(stopping.wait_for(10s) == std::future_status::ready);
    CHECK(busy.closed_within(5s));
}

}  // TEST_SUITE
}  // namespace http_server_tests
