// End-to-end tests of allocation-service against hostile clients: raw bytes on sockets that
// frame bodies every way, flood headers, pipeline, stall, idle and send SIGTERM meanwhile. After
// each the service is alive and nothing has changed (or it exited 0, for SIGTERM).
// SPDX-License-Identifier: MIT
#include "e2e/service.hpp"

#include <signal.h>  // SIGTERM

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

using namespace allocation::test::e2e;
using allocation::test::raw_connection;

namespace {

/// A service (SQLite, no Redis) with batch b1 of 10 LAMPs.
class stocked_service {
public:
    explicit stocked_service(const std::vector<std::string>& args = {}) : svc_(db_, nullptr, args) {
        REQUIRE(svc_.post("/add_batch", batch("b1", "LAMP", 10)).status == 201);
    }
    [[nodiscard]] auto svc() -> service& { return svc_; }
    [[nodiscard]] auto port() const -> int { return svc_.port(); }

    /// The service answers and LAMP has `available` units left.
    void check_alive_with(int available) {
        CHECK(svc_.get("/health").status == 200);
        CHECK(svc_.get("/products/LAMP").data["available"] == available);
    }

private:
    database db_;
    service svc_;
};

/// The head of a POST /allocate with `fields` ("Name: value\r\n" each) after Host.
auto post_head(const std::string& fields, const std::string& path = "/allocate") -> std::string {
    return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + fields + "\r\n";
}

auto allocate_body(const std::string& order, int qty = 1) -> std::string { return line(order, "LAMP", qty).dump(); }

/// A complete POST /allocate with a JSON body.
auto allocate_request(const std::string& order, int qty = 1, const std::string& extra_fields = {}) -> std::string {
    const auto body = allocate_body(order, qty);
    return post_head("Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra_fields) +
           body;
}

auto get_request(const std::string& path) -> std::string { return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"; }

/// The answer's JSON `message`, or "".
auto message_of(const allocation::test::http_answer& a) -> std::string {
    const auto j = json::parse(a.body, nullptr, false);
    return j.is_object() && j.contains("message") && j["message"].is_string() ? j["message"].get<std::string>() : "";
}

/// Sends `bytes` on a new connection; the answer (none if the connection closed without one).
auto exchange(int port, const std::string& bytes) -> std::optional<allocation::test::http_answer> {
    raw_connection c(port);
    (void)c.send(bytes);  // the server may close before taking everything
    return c.read_answer(10s);
}

}  // namespace

TEST_SUITE("service-e2e-hostile") {

TEST_CASE("a client sending its header a byte a second and 200 idle connections do not keep another client waiting") {
    stocked_service s;
    std::vector<raw_connection> idle;
    for (int i = 0; i < 200; ++i) idle.emplace_back(s.port());
    std::vector<raw_connection> half;  // sent part of a request, then nothing
    for (int i = 0; i < 20; ++i) {
        half.emplace_back(s.port());
        REQUIRE(half.back().send("POST /allocate HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"orde"));
    }
    std::atomic<bool> done{false};
    std::vector<std::thread> slow;
    for (int t = 0; t < 8; ++t) {
        slow.emplace_back([&, t] {
            raw_connection c(s.port());
            const auto request = allocate_request("slow-" + std::to_string(t));
            for (std::size_t i = 0; i < request.size() && !done; ++i) {
                if (!c.send(request.substr(i, 1))) return;
                for (int k = 0; k < 10 && !done; ++k) std::this_thread::sleep_for(100ms);
            }
        });
    }
    std::this_thread::sleep_for(500ms);
    allocation::test::http_client client(s.port());
    for (int i = 0; i < 5; ++i) {
        const auto start = std::chrono::steady_clock::now();
        const auto a = client.post("/allocate", allocate_body("normal-" + std::to_string(i)));
        const auto took = std::chrono::steady_clock::now() - start;
        REQUIRE(a);
        CHECK(a->status == 202);
        CHECK_MESSAGE(took < 1s, "answered after " << std::chrono::duration<double>(took).count() << " s");
    }
    done = true;
    for (auto& t : slow) t.join();
    s.check_alive_with(5);
}

TEST_CASE("a client that has not sent its whole header 10 seconds after it began is disconnected, even trickling") {
    stocked_service s;
    raw_connection c(s.port());
    const auto request = allocate_request("trickle");
    bool closed = false;
    for (std::size_t i = 0; i < request.size() && !closed; ++i) {  // one byte a second, 12 s at most
        if (!c.send(request.substr(i, 1))) break;
        closed = c.closed_within(1s);
        if (i > 12) break;
    }
    CHECK((closed || c.eof()));
    s.check_alive_with(10);
}

TEST_CASE("a client that does not send its whole body within the body timeout is disconnected") {
    stocked_service s({"--body-timeout", "2"});
    raw_connection c(s.port());
    REQUIRE(c.send(post_head("Content-Type: application/json\r\nContent-Length: 100\r\n") + "{\"orderid\": "));
    CHECK(c.closed_within(6s));
    CHECK_FALSE(c.read_answer(100ms));
    s.check_alive_with(10);
}

TEST_CASE("a kept-alive connection that stays silent is closed after the idle timeout") {
    stocked_service s({"--idle-timeout", "1"});
    raw_connection c(s.port());
    REQUIRE(c.send(get_request("/health")));
    const auto a = c.read_answer();
    REQUIRE(a);
    CHECK(a->status == 200);
    CHECK(c.closed_within(5s));
    s.check_alive_with(10);
}

TEST_CASE("a body over 1 MB is answered 413 however it is framed, and nothing changes") {
    stocked_service s;
    const std::string json_type = "Content-Type: application/json\r\n";
    SUBCASE("Content-Length over the limit: answered before any byte of the body is sent") {
        raw_connection c(s.port());
        REQUIRE(c.send(post_head(json_type + "Content-Length: 2000000\r\n")));
        const auto a = c.read_answer(5s);
        REQUIRE(a);
        CHECK(a->status == 413);
        CHECK_FALSE(message_of(*a).empty());
        CHECK(c.closed_within(5s));
    }
    SUBCASE("chunked, the chunks adding up to more than 1 MB") {
        raw_connection c(s.port());
        REQUIRE(c.send(post_head(json_type + "Transfer-Encoding: chunked\r\n")));
        const std::string chunk = "10000\r\n" + std::string(0x10000, ' ') + "\r\n";
        for (int i = 0; i < 40; ++i) {  // 2.5 MB offered; the server stops reading past 1 MB
            if (!c.send(chunk)) break;
        }
        const auto a = c.read_answer(5s);
        REQUIRE(a);
        CHECK(a->status == 413);
        CHECK_FALSE(message_of(*a).empty());
    }
    SUBCASE("no length: the body runs to the end of the connection") {
        raw_connection c(s.port());
        REQUIRE(c.send(post_head(json_type + "Connection: close\r\n")));
        const std::string piece(0x10000, ' ');
        for (int i = 0; i < 24; ++i) {  // 1.5 MB
            if (!c.send(piece)) break;
        }
        c.shutdown_send();
        const auto a = c.read_answer(5s);
        REQUIRE(a);
        CHECK(a->status == 413);
        CHECK_FALSE(message_of(*a).empty());
    }
    SUBCASE("gzip with a Content-Length over the limit") {
        const auto a = exchange(s.port(), post_head(json_type + "Content-Encoding: gzip\r\nContent-Length: 2000000\r\n"));
        REQUIRE(a);
        CHECK(a->status == 413);
    }
    s.check_alive_with(10);
}

TEST_CASE("a compressed body is refused 415 without being inflated, and a body without length on a kept-alive connection 411") {
    stocked_service s;
    const std::string json_type = "Content-Type: application/json\r\n";
    // The first bytes of a gzip member; the server must not try to read it at all.
    const std::string gzip_bytes = std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10) + std::string(990, '\x01');
    struct attempt {
        const char* what;
        std::string request;
        int status;
    };
    const std::vector<attempt> table = {
        {"Content-Encoding: gzip", post_head(json_type + "Content-Encoding: gzip\r\nContent-Length: 1000\r\n") + gzip_bytes, 415},
        {"Content-Encoding: deflate, chunked", post_head(json_type + "Content-Encoding: deflate\r\nTransfer-Encoding: chunked\r\n") + "3e8\r\n" + gzip_bytes, 415},
        {"Transfer-Encoding: gzip, chunked", post_head(json_type + "Transfer-Encoding: gzip, chunked\r\n") + "3e8\r\n" + gzip_bytes, 415},
        {"no length, kept alive", post_head(json_type) + allocate_body("o1"), 411},
    };
    for (const auto& t : table) {
        CAPTURE(t.what);
        const auto a = exchange(s.port(), t.request);
        REQUIRE(a);
        CHECK(a->status == t.status);
        CHECK_FALSE(message_of(*a).empty());
    }
    s.check_alive_with(10);
}

TEST_CASE("requests pipelined in one write are all answered, in order") {
    stocked_service s;
    raw_connection c(s.port());
    REQUIRE(c.send(allocate_request("p1", 1) + get_request("/products/LAMP") + allocate_request("p2", 2) +
                   get_request("/allocations/p1") + get_request("/products/LAMP") + get_request("/health")));
    std::vector<int> statuses;
    std::vector<json> bodies;
    for (int i = 0; i < 6; ++i) {
        const auto a = c.read_answer(5s);
        REQUIRE(a);
        statuses.push_back(a->status);
        bodies.push_back(json::parse(a->body, nullptr, false));
    }
    CHECK(statuses == std::vector<int>{202, 200, 202, 200, 200, 200});
    CHECK(bodies[1]["available"] == 9);  // after p1, before p2: the order they were sent in
    CHECK(bodies[3] == json::array({{{"sku", "LAMP"}, {"batchref", "b1"}}}));
    CHECK(bodies[4]["available"] == 7);
    s.check_alive_with(7);
}

TEST_CASE("a header section over 16 KB or over 100 fields is answered 431") {
    stocked_service s;
    SUBCASE("one field of 17 KB") {
        const auto a = exchange(s.port(), allocate_request("o1", 1, "X-Big: " + std::string(17 * 1024, 'a') + "\r\n"));
        REQUIRE(a);
        CHECK(a->status == 431);
        CHECK_FALSE(message_of(*a).empty());
    }
    SUBCASE("4 MB of fields") {
        std::string fields;
        for (int i = 0; i < 4096; ++i) fields += "X-F" + std::to_string(i) + ": " + std::string(1000, 'b') + "\r\n";
        const auto a = exchange(s.port(), allocate_request("o1", 1, fields));
        REQUIRE(a);
        CHECK(a->status == 431);
    }
    SUBCASE("101 fields") {
        std::string fields;
        for (int i = 0; i < 98; ++i) fields += "X-F" + std::to_string(i) + ": v\r\n";  // + Host, type, length
        const auto a = exchange(s.port(), allocate_request("o1", 1, fields));
        REQUIRE(a);
        CHECK(a->status == 431);
        CHECK_FALSE(message_of(*a).empty());
    }
    SUBCASE("100 fields are accepted") {
        std::string fields;
        for (int i = 0; i < 99; ++i) fields += "X-F" + std::to_string(i) + ": v\r\n";  // + Host
        const auto a = exchange(s.port(), "GET /health HTTP/1.1\r\nHost: x\r\n" + fields + "\r\n");
        REQUIRE(a);
        CHECK(a->status == 200);
    }
    s.check_alive_with(10);
}

TEST_CASE("a control byte in a header value is answered 400 and the request not done") {
    stocked_service s;
    for (const std::string& byte : {std::string(1, '\0'), std::string("\x01"), std::string("\x1b"), std::string("\x7f"),
                                   std::string("\n")}) {
        CAPTURE(static_cast<int>(byte[0]));
        const auto a = exchange(s.port(), allocate_request("o1", 1, "Idempotency-Key: k" + byte + "A\r\n"));
        REQUIRE(a);
        CHECK(a->status == 400);
        CHECK_FALSE(message_of(*a).empty());
    }
    s.check_alive_with(10);
}

TEST_CASE("Content-Length given twice is answered 400 and the request not done") {
    stocked_service s;
    const auto body = allocate_body("o1");
    const auto n = std::to_string(body.size());
    for (const std::string& fields : {"Content-Length: " + n + "\r\nContent-Length: " + n + "\r\n",
                                     "Content-Length: " + n + "\r\nContent-Length: 5\r\n",
                                     "Content-Length: " + n + ", " + n + "\r\n"}) {
        CAPTURE(fields);
        const auto a = exchange(s.port(), post_head("Content-Type: application/json\r\n" + fields) + body);
        REQUIRE(a);
        CHECK(a->status == 400);
        CHECK_FALSE(message_of(*a).empty());
    }
    s.check_alive_with(10);
}

TEST_CASE("a POST body not declared application/json is answered 415, a type with parameters is accepted") {
    stocked_service s;
    const auto body = allocate_body("o1");
    auto request = [&](const std::string& type_field) {
        return post_head(type_field + "Content-Length: " + std::to_string(body.size()) + "\r\n") + body;
    };
    for (const char* type : {"Content-Type: text/plain\r\n", "Content-Type: application/x-www-form-urlencoded\r\n",
                                   "", "Content-Type: application/jsonp\r\n", "Content-Type: multipart/form-data; boundary=x\r\n"}) {
        CAPTURE(type);
        const auto a = exchange(s.port(), request(std::string(type)));
        REQUIRE(a);
        CHECK(a->status == 415);
        CHECK_FALSE(message_of(*a).empty());
    }
    s.check_alive_with(10);
    const auto a = exchange(s.port(), request("Content-Type: Application/JSON; charset=utf-8\r\n"));
    REQUIRE(a);
    CHECK(a->status == 202);
    s.check_alive_with(9);
}

TEST_CASE("a client waiting for 100 Continue gets it, then its answer, and HEAD gets the head of GET") {
    stocked_service s;
    raw_connection c(s.port());
    const auto body = allocate_body("o1");
    REQUIRE(c.send(post_head("Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: " +
                             std::to_string(body.size()) + "\r\n")));
    std::this_thread::sleep_for(100ms);
    REQUIRE(c.send(body));
    const auto a = c.read_answer();
    REQUIRE(a);
    CHECK(a->status == 202);
    REQUIRE(c.send("HEAD /products/LAMP HTTP/1.1\r\nHost: x\r\n\r\n" + get_request("/health")));
    const auto h = c.read_answer(10s, true);  // the GET answer's Content-Length, no body
    REQUIRE(h);
    CHECK(h->status == 200);
    CHECK(std::stoul(h->header("Content-Length")) > 0);
    const auto after = c.read_answer();
    REQUIRE(after);
    CHECK(after->body == R"({"status":"ok"})");
    s.check_alive_with(9);
}

TEST_CASE("SIGTERM ends the service with exit code 0 within 10 s while clients are stalled or idle") {
    database db;
    service svc(db, nullptr);
    REQUIRE(svc.post("/add_batch", batch("b1", "LAMP", 10)).status == 201);
    raw_connection idle(svc.port());
    raw_connection stalled_header(svc.port());
    REQUIRE(stalled_header.send("POST /allocate HTTP/1.1\r\nHost: x\r\nContent-Ty"));
    raw_connection stalled_body(svc.port());
    REQUIRE(stalled_body.send(post_head("Content-Type: application/json\r\nContent-Length: 1000\r\n") + "{\"orderid\""));
    raw_connection kept_alive(svc.port());
    REQUIRE(kept_alive.send(get_request("/health")));
    REQUIRE(kept_alive.read_answer());
    std::this_thread::sleep_for(200ms);
    svc.process().signal(SIGTERM);
    const auto code = svc.process().wait(10s);
    REQUIRE(code);
    CHECK(*code == 0);
}

}  // TEST_SUITE
