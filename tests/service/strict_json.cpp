// Tests of examples/service/strict_json.hpp: request bodies decoded without recursion, with a
// nesting limit and no duplicate keys.
// SPDX-License-Identifier: MIT
#include "strict_json.hpp"

#include <string>

#include <doctest/doctest.h>

namespace strict_json_tests {

using namespace allocation::service;

namespace {

auto refusal(std::string_view body) -> std::string {
    auto p = parse_json_body(body);
    REQUIRE_FALSE(static_cast<bool>(p));
    CHECK(p.error().status == 400);
    return p.error().message;
}

auto nested(std::size_t levels, char open = '[', char close = ']') -> std::string {
    return std::string(levels, open) + std::string(levels, close);
}

/// `levels` objects nested as {"a":{"a":...{}}}.
auto nested_objects(std::size_t levels) -> std::string {
    std::string out;
    for (std::size_t i = 1; i < levels; ++i) out += R"({"a":)";
    out += "{}";
    out += std::string(levels - 1, '}');
    return out;
}

}  // namespace

TEST_SUITE("service") {

TEST_CASE("a body nested 64 levels deep is accepted and one of 65 is refused") {
    CHECK(parse_json_body(nested(64)));
    CHECK(parse_json_body(nested_objects(64)));
    CHECK(refusal(nested(65)) == "request body is nested deeper than 64 levels");
    CHECK(refusal(nested_objects(65)) == "request body is nested deeper than 64 levels");
}

TEST_CASE("arrays and objects count alike towards the nesting limit") {
    std::string mixed;
    for (int i = 0; i < 32; ++i) mixed += R"([{"k":)";
    mixed += "1";
    for (int i = 0; i < 32; ++i) mixed += "}]";
    CHECK(parse_json_body(mixed));
    CHECK(refusal("[" + mixed + "]") == "request body is nested deeper than 64 levels");
}

TEST_CASE("levels that are closed again do not count towards the limit") {
    std::string wide = "[";
    for (int i = 0; i < 1000; ++i) wide += nested(60) + ",";
    wide += "1]";
    CHECK(parse_json_body(wide));
}

TEST_CASE("a body of hundreds of thousands of opening brackets is refused without exhausting the stack") {
    CHECK(refusal(std::string(400'000, '[')) == "request body is nested deeper than 64 levels");
    CHECK(refusal(std::string(400'000, '{')) == "request body is not valid JSON");  // a key is expected
    std::string objects;
    for (int i = 0; i < 200'000; ++i) objects += R"({"a":)";
    CHECK(refusal(objects) == "request body is nested deeper than 64 levels");
}

TEST_CASE("a key given twice in one object is refused at any level") {
    CHECK(refusal(R"({"qty": 1, "qty": 1})") == R"(request body has duplicate key "qty")");
    CHECK(refusal(R"({"lines": [{"sku": "A", "qty": 1, "sku": "B"}]})") == R"(request body has duplicate key "sku")");
    CHECK(refusal(R"({"a": {"b": {"c": 1, "c": 2}}})") == R"(request body has duplicate key "c")");
    CHECK(refusal(R"({"\u0071ty": 1, "qty": 2})") == R"(request body has duplicate key "qty")");  // escapes decoded first
    CHECK(refusal("{\"" + std::string(100, 'k') + "\": 1, \"" + std::string(100, 'k') + "\": 2}") ==
          "request body has a duplicate key of 100 bytes");
}

TEST_CASE("the same key in different objects is no duplicate") {
    CHECK(parse_json_body(R"({"a": {"k": 1}, "b": {"k": 1}, "k": [{"k": 1}, {"k": 2}]})"));
    CHECK(parse_json_body(R"([{"k": 1}, {"k": 1}])"));
}

TEST_CASE("a body that is not exactly one JSON value is refused") {
    for (const char* body : {"", " ", "{", "{}}", "{} {}", "[1,]", "{\"a\":1,}", "// c\n{}", "{'a': 1}", "NaN", "1e999",
                             "\"\xff\"", "{\"a\" 1}", "tru"}) {
        CAPTURE(body);
        CHECK(refusal(body) == "request body is not valid JSON");
    }
}

TEST_CASE("a valid body is decoded to its value") {
    auto p = parse_json_body(R"( {"orderid": "o1", "lines": [{"sku": "S", "qty": 2}], "eta": null} )");
    REQUIRE(p);
    CHECK(p.value()["orderid"] == "o1");
    CHECK(p.value()["lines"][0]["qty"] == 2);
    CHECK(p.value()["eta"].is_null());
}

}  // TEST_SUITE
}  // namespace strict_json_tests
