// Tests of examples/service/request_parser.hpp: what parse_request() makes of bytes, with the
// service's limits.
// SPDX-License-Identifier: MIT
#include "request_parser.hpp"

#include <string>

#include <doctest/doctest.h>

namespace request_parser_tests {

using namespace allocation::service;

namespace {

auto post(const std::string& fields, const std::string& body) -> std::string {
    return "POST /allocate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + fields + "\r\n" + body;
}

auto status_of(const std::string& input, const request_limits& limits = {}) -> int {
    const auto r = parse_request(input, limits);
    REQUIRE(r.error);
    CHECK_FALSE(r.error->message.empty());
    return r.error->status;
}

}  // namespace

TEST_SUITE("service") {

TEST_CASE("a request with a Content-Length body is read whole, with its method, path and fields") {
    const auto r = parse_request(post("Content-Length: 7\r\nIdempotency-Key: k1\r\n", "{\"a\":1}"));
    REQUIRE(r.request);
    CHECK(r.request->method == "POST");
    CHECK(r.request->target == "/allocate");
    CHECK(r.request->path == "/allocate");
    CHECK(r.request->body == "{\"a\":1}");
    REQUIRE(r.request->header("idempotency-key") != nullptr);
    CHECK(*r.request->header("IDEMPOTENCY-KEY") == "k1");
    CHECK(r.request->version == 11);
}

TEST_CASE("the path is the target without its query") {
    const auto r = parse_request("GET /products/LAMP?x=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(r.request);
    CHECK(r.request->path == "/products/LAMP");
    CHECK(r.request->target == "/products/LAMP?x=1");
}

TEST_CASE("a chunked body is joined, and pipelined bytes after a request are left for the next") {
    const std::string first = post("Transfer-Encoding: chunked\r\n", "3\r\n{\"a\r\n4\r\n\":1}\r\n0\r\n\r\n");
    const std::string second = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
    const auto r = parse_request(first + second);
    REQUIRE(r.request);
    CHECK(r.request->body == "{\"a\":1}");
    CHECK(r.consumed == first.size());
    const auto next = parse_request(std::string_view(first + second).substr(r.consumed));
    REQUIRE(next.request);
    CHECK(next.request->path == "/health");
}

TEST_CASE("an incomplete request is neither a request nor an error until the client closes") {
    const std::string partial = post("Content-Length: 10\r\n", "{\"a\"");
    const auto open = parse_request(partial, {}, false);
    CHECK_FALSE(open.request);
    CHECK_FALSE(open.error);
    CHECK(status_of(partial) == 400);
    const auto nothing = parse_request("", {}, true);
    CHECK_FALSE(nothing.request);
    CHECK_FALSE(nothing.error);
}

TEST_CASE("a body over the limit is refused 413 however it is framed") {
    request_limits limits;
    limits.body_bytes = 100;
    SUBCASE("Content-Length over the limit, before any body byte") {
        CHECK(status_of(post("Content-Length: 101\r\n", ""), limits) == 413);
    }
    SUBCASE("chunks adding up to more") {
        std::string chunks;
        for (int i = 0; i < 20; ++i) chunks += "a\r\n0123456789\r\n";
        CHECK(status_of(post("Transfer-Encoding: chunked\r\n", chunks), limits) == 413);
    }
    SUBCASE("a body running to the end of the connection") {
        CHECK(status_of(post("Connection: close\r\n", std::string(101, 'x')), limits) == 413);
        const auto fits = parse_request(post("Connection: close\r\n", std::string(100, 'x')), limits);
        REQUIRE(fits.request);
        CHECK(fits.request->body.size() == 100);
    }
    SUBCASE("gzip declared with a Content-Length over the limit") {
        CHECK(status_of(post("Content-Encoding: gzip\r\nContent-Length: 101\r\n", ""), limits) == 413);
    }
}

TEST_CASE("an encoded body is refused 415 and never decoded") {
    CHECK(status_of(post("Content-Encoding: gzip\r\nContent-Length: 3\r\n", "\x1f\x8b\x08")) == 415);
    CHECK(status_of(post("Content-Encoding: deflate\r\nTransfer-Encoding: chunked\r\n", "")) == 415);
    CHECK(status_of(post("Transfer-Encoding: gzip, chunked\r\n", "")) == 415);
    CHECK(status_of(post("Transfer-Encoding: gzip\r\n", "")) == 415);
    const auto identity = parse_request(post("Content-Encoding: identity\r\nContent-Length: 2\r\n", "{}"));
    CHECK(identity.request);
}

TEST_CASE("a header section over its limits is refused 431") {
    SUBCASE("more bytes than the limit") {
        CHECK(status_of(post("X-Big: " + std::string(16 * 1024, 'a') + "\r\nContent-Length: 2\r\n", "{}")) == 431);
    }
    SUBCASE("more fields than the limit") {
        std::string fields;
        for (int i = 0; i < 98; ++i) fields += "X-" + std::to_string(i) + ": v\r\n";
        CHECK(status_of(post(fields + "Content-Length: 2\r\n", "{}")) == 431);  // 101 with Host, type, length
        fields.erase(fields.rfind("X-"));
        CHECK(parse_request(post(fields + "Content-Length: 2\r\n", "{}")).request);  // 100
    }
    SUBCASE("more bytes than the limit in a long start line and long fields") {
        const auto input = "GET /allocations/" + std::string(12 * 1024, 'o') + " HTTP/1.1\r\nHost: x\r\nX-Big: " +
                           std::string(12 * 1024, 'a') + "\r\n\r\n";
        CHECK(status_of(input) == 431);
    }
    SUBCASE("more bytes than the limit, arriving in parts") {
        // The start line alone first, then the fields: the limit is of the whole section.
        const auto input = "GET /allocations/" + std::string(12 * 1024, 'o') + " HTTP/1.1\r\nHost: x\r\nX-Big: " +
                           std::string(12 * 1024, 'a') + "\r\n\r\n";
        request_reader reader;
        const auto first = reader.feed(std::string_view(input).substr(0, input.find('\n') + 1));
        CHECK(first > 0);
        CHECK(reader.current() == request_reader::state::header);
        reader.feed(std::string_view(input).substr(first));
        REQUIRE(reader.current() == request_reader::state::failed);
        CHECK(reader.error().status == 431);
    }
    SUBCASE("a section within the limit, arriving in parts, is read") {
        const auto input = "GET /allocations/" + std::string(6 * 1024, 'o') + " HTTP/1.1\r\nHost: x\r\nX-Big: " +
                           std::string(6 * 1024, 'a') + "\r\n\r\n";
        request_reader reader;
        const auto first = reader.feed(std::string_view(input).substr(0, input.find('\n') + 1));
        reader.feed(std::string_view(input).substr(first));
        CHECK(reader.current() == request_reader::state::header_done);
    }
}

TEST_CASE("control bytes in a field value, a duplicate Content-Length and bad framing are refused 400") {
    for (const char c : {'\0', '\x01', '\x1f', '\x7f'}) {
        CAPTURE(static_cast<int>(c));
        CHECK(status_of(post(std::string("Idempotency-Key: k") + c + "A\r\nContent-Length: 2\r\n", "{}")) == 400);
    }
    CHECK(status_of(post("Content-Length: 2\r\nContent-Length: 2\r\n", "{}")) == 400);
    CHECK(status_of(post("Content-Length: 2\r\nContent-Length: 3\r\n", "{}")) == 400);
    CHECK(status_of(post("Content-Length: 2, 2\r\n", "{}")) == 400);
    CHECK(status_of(post("Content-Length: +2\r\n", "{}")) == 400);
    CHECK(status_of(post("Content-Length: 2\r\nTransfer-Encoding: chunked\r\n", "{}")) == 400);
    CHECK(status_of("GET /health HTTP/2.0\r\nHost: x\r\n\r\n") == 400);
    CHECK(status_of("GET /he alth HTTP/1.1\r\nHost: x\r\n\r\n") == 400);
    CHECK(status_of("GARBAGE\r\n\r\n") == 400);
}

TEST_CASE("a POST without length is refused 411 on a kept-alive connection, and reads to the end on a closing one") {
    CHECK(status_of(post("", "{}")) == 411);
    const auto closing = parse_request("POST /allocate HTTP/1.0\r\nContent-Type: application/json\r\n\r\n{}");
    REQUIRE(closing.request);
    CHECK(closing.request->body == "{}");
    CHECK(parse_request("GET /health HTTP/1.1\r\nHost: x\r\n\r\n").request);
}

TEST_CASE("the reader stops after the head, so that it can be refused before any body byte is read") {
    request_reader reader;
    const std::string head = "POST /allocate HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n";
    const auto n = reader.feed(head + "{}");
    CHECK(n == head.size());
    CHECK(reader.current() == request_reader::state::header_done);
    CHECK(reader.expects_continue());
    CHECK(reader.body_pending());
    reader.accept_header();
    CHECK(reader.feed("{}") == 2);
    CHECK(reader.current() == request_reader::state::done);
    CHECK(reader.keep_alive());
}

}  // TEST_SUITE
}  // namespace request_parser_tests
