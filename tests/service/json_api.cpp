// Tests of examples/service/json_api.hpp: request bodies to commands, answers and events to JSON.
// SPDX-License-Identifier: MIT
#include "json_api.hpp"

#include <string>

#include <doctest/doctest.h>

namespace json_api_tests {

using namespace allocation;
using namespace allocation::service;
using namespace std::chrono_literals;

namespace {

/// The message of a refused body; fails the test when the body is accepted.
template <class T>
auto refusal(const parsed<T>& p) -> std::string {
    REQUIRE_FALSE(static_cast<bool>(p));
    CHECK(p.error().status == 400);
    return p.error().message;
}

}  // namespace

TEST_SUITE("service") {

TEST_CASE("an allocate body becomes an Allocate command") {
    auto p = parse_allocate(R"({"orderid": "o1", "sku": "RED-CHAIR", "qty": 10})");
    REQUIRE(p);
    CHECK(p.value().order == order_id{"o1"});
    CHECK(p.value().sku == sku{"RED-CHAIR"});
    CHECK(p.value().qty == quantity{10});
}

TEST_CASE("fields the API does not know are ignored") {
    CHECK(parse_allocate(R"({"orderid": "o1", "sku": "S", "qty": 1, "note": [1, 2]})"));
}

TEST_CASE("a body that is not JSON is refused with a message") {
    CHECK(refusal(parse_allocate("orderid=o1")) == "request body is not valid JSON");
    CHECK(refusal(parse_allocate("")) == "request body is not valid JSON");
    CHECK(refusal(parse_allocate(R"({"orderid": "o1")")) == "request body is not valid JSON");
}

TEST_CASE("a JSON body that is not an object is refused with a message") {
    CHECK(refusal(parse_allocate("[]")) == "request body must be a JSON object");
    CHECK(refusal(parse_allocate("null")) == "request body must be a JSON object");
    CHECK(refusal(parse_allocate("\"o1\"")) == "request body must be a JSON object");
}

TEST_CASE("a missing field is named in the message") {
    CHECK(refusal(parse_allocate(R"({"sku": "S", "qty": 1})")) == "orderid is missing");
    CHECK(refusal(parse_allocate(R"({"orderid": "o", "qty": 1})")) == "sku is missing");
    CHECK(refusal(parse_allocate(R"({"orderid": "o", "sku": "S"})")) == "qty is missing");
    CHECK(refusal(parse_allocate(R"({"orderid": "o", "sku": null, "qty": 1})")) == "sku is missing");
}

TEST_CASE("a quantity must be a JSON integer in range") {
    const std::string range = "qty must be an integer from 1 to 2147483647";
    for (const char* qty : {"0", "-1", "2147483648", "1.5", "1.0", "1e3", "\"3\"", "true", "[]", "{}",
                            "18446744073709551615", "-9223372036854775808"}) {
        CAPTURE(qty);
        CHECK(refusal(parse_allocate(std::string(R"({"orderid": "o", "sku": "S", "qty": )") + qty + "}")) == range);
    }
}

TEST_CASE("a quantity of zero is refused with a message") {
    CHECK(refusal(parse_allocate(R"({"orderid": "o", "sku": "S", "qty": 0})")) ==
          "qty must be an integer from 1 to 2147483647");
}

TEST_CASE("the largest quantity is 2^31 - 1") {
    auto p = parse_allocate(R"({"orderid": "o", "sku": "S", "qty": 2147483647})");
    REQUIRE(p);
    CHECK(p.value().qty == quantity{2147483647});
}

TEST_CASE("identifiers must be strings of 1 to 255 bytes of UTF-8 without control characters") {
    const std::string message = "sku must be 1 to 255 bytes of UTF-8 without control characters";
    auto with_sku = [](const std::string& sku_json) {
        return parse_allocate(R"({"orderid": "o", "qty": 1, "sku": )" + sku_json + "}");
    };
    CHECK(refusal(with_sku(R"("")")) == message);
    CHECK(refusal(with_sku("\"" + std::string(256, 'x') + "\"")) == message);
    CHECK(refusal(with_sku("\"" + std::string(10'000, 'x') + "\"")) == message);
    CHECK(refusal(with_sku(R"("a\nb")")) == message);
    CHECK(refusal(with_sku(R"("a\u0000b")")) == message);
    CHECK(refusal(with_sku("12")) == "sku must be a string");
    CHECK(refusal(with_sku("[\"S\"]")) == "sku must be a string");
    CHECK(with_sku("\"" + std::string(255, 'x') + "\""));
    CHECK(with_sku(R"("CHAISE-ROUGE-été-😀")"));
}

TEST_CASE("a batch body becomes a CreateBatch command, its eta a date or none") {
    SUBCASE("with an eta") {
        auto p = parse_create_batch(R"({"ref": "b1", "sku": "S", "qty": 100, "eta": "2011-01-02"})");
        REQUIRE(p);
        CHECK(p.value().ref == batch_ref{"b1"});
        CHECK(p.value().qty == quantity{100});
        CHECK(p.value().eta == date{2011y / 1 / 2});
    }
    SUBCASE("eta null is none") {
        auto p = parse_create_batch(R"({"ref": "b1", "sku": "S", "qty": 100, "eta": null})");
        REQUIRE(p);
        CHECK_FALSE(p.value().eta);
    }
    SUBCASE("eta absent is none") {
        auto p = parse_create_batch(R"({"ref": "b1", "sku": "S", "qty": 100})");
        REQUIRE(p);
        CHECK_FALSE(p.value().eta);
    }
    SUBCASE("a date and time keeps its date, as the reference does") {
        auto p = parse_create_batch(R"({"ref": "b1", "sku": "S", "qty": 100, "eta": "2011-01-02T23:30:00-05:00"})");
        REQUIRE(p);
        CHECK(p.value().eta == date{2011y / 1 / 2});
    }
}

TEST_CASE("an eta the reference's fromisoformat refuses is refused with a message") {
    for (const char* eta : {"\"2011-02-30\"", "\"2011-13-01\"", "\"2011-1-2\"", "\"02/01/2011\"", "\"2011-01-02T24:00:00\"",
                            "\"0000-01-01\"", "\"\"", "\"2011-01-02T\"", "20110102", "true", "[]", "{}"}) {
        CAPTURE(eta);
        CHECK(refusal(parse_create_batch(std::string(R"({"ref": "b", "sku": "S", "qty": 1, "eta": )") + eta + "}")) ==
              "eta must be null or an ISO 8601 date or date and time, e.g. 2011-01-02");
    }
    CHECK(parse_create_batch(R"({"ref": "b", "sku": "S", "qty": 1, "eta": "2024-02-29"})"));
}

TEST_CASE("a batch quantity below one is refused with a message") {
    const std::string range = "qty must be an integer from 1 to 2147483647";
    CHECK(refusal(parse_create_batch(R"({"ref": "b", "sku": "S", "qty": 0})")) == range);
    CHECK(refusal(parse_create_batch(R"({"ref": "b", "sku": "S", "qty": -1})")) == range);
}

TEST_CASE("every endpoint refuses a body nested too deeply or with a duplicate key") {
    const std::string deep = std::string(65, '[') + std::string(65, ']');
    const std::string deep_message = "request body is nested deeper than 64 levels";
    const auto deep_field = R"({"orderid": "o", "sku": "S", "qty": 1, "batchref": "b", "ref": "b", "lines": [{"sku": "S", "qty": 1}], "x": )" +
                            std::string(64, '[') + std::string(64, ']') + "}";
    const auto duplicate = std::string(R"({"orderid": "o", "sku": "S", "qty": 1, "batchref": "b", "ref": "b", "lines": [{"sku": "S", "qty": 1, "sku": "T"}]})");
    CHECK(refusal(parse_allocate(deep)) == deep_message);
    CHECK(refusal(parse_create_batch(deep_field)) == deep_message);
    CHECK(refusal(parse_deallocate(deep_field)) == deep_message);
    CHECK(refusal(parse_change_batch_quantity(deep_field)) == deep_message);
    CHECK(refusal(parse_allocate_order(deep_field)) == deep_message);
    CHECK(refusal(parse_allocate_order(duplicate)) == R"(request body has duplicate key "sku")");
    CHECK(refusal(parse_allocate(R"({"orderid": "o", "sku": "S", "qty": 1, "qty": 2})")) == R"(request body has duplicate key "qty")");
}

TEST_CASE("a deallocate body may name the quantity to check") {
    auto without = parse_deallocate(R"({"orderid": "o", "sku": "S"})");
    REQUIRE(without);
    CHECK_FALSE(without.value().qty);
    auto with = parse_deallocate(R"({"orderid": "o", "sku": "S", "qty": 3})");
    REQUIRE(with);
    CHECK(with.value().qty == quantity{3});
    CHECK(refusal(parse_deallocate(R"({"orderid": "o", "sku": "S", "qty": 0})")) ==
          "qty must be an integer from 1 to 2147483647");
}

TEST_CASE("a change of batch quantity names the batch and a quantity from zero") {
    auto p = parse_change_batch_quantity(R"({"batchref": "b1", "qty": 0})");
    REQUIRE(p);
    CHECK(p.value().ref == batch_ref{"b1"});
    CHECK(p.value().qty == quantity{0});
    CHECK(refusal(parse_change_batch_quantity(R"({"ref": "b1", "qty": 3})")) == "batchref is missing");
    CHECK(refusal(parse_change_batch_quantity(R"({"batchref": "b1", "qty": "3"})")) ==
          "qty must be an integer from 0 to 2147483647");
}

TEST_CASE("an order body becomes an AllocateOrder command with every line") {
    auto p = parse_allocate_order(R"({"orderid": "o", "lines": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}]})");
    REQUIRE(p);
    CHECK(p.value().order == order_id{"o"});
    REQUIRE(p.value().lines.size() == 2);
    CHECK(p.value().lines[1].sku == sku{"B"});
    CHECK(p.value().lines[1].qty == quantity{2});
}

TEST_CASE("an order's lines must be a non-empty array of objects, each line checked") {
    const std::string not_array = "lines must be a non-empty array of {sku, qty}";
    CHECK(refusal(parse_allocate_order(R"({"orderid": "o"})")) == "lines is missing");
    CHECK(refusal(parse_allocate_order(R"({"orderid": "o", "lines": []})")) == not_array);
    CHECK(refusal(parse_allocate_order(R"({"orderid": "o", "lines": {"sku": "A", "qty": 1}})")) == not_array);
    CHECK(refusal(parse_allocate_order(R"({"orderid": "o", "lines": [{"sku": "A", "qty": 1}, 3]})")) ==
          "lines[1] must be an object {sku, qty}");
    CHECK(refusal(parse_allocate_order(R"({"orderid": "o", "lines": [{"sku": "A", "qty": 1.5}]})")) ==
          "lines[0].qty must be an integer from 1 to 2147483647");
    CHECK(refusal(parse_allocate_order(R"({"orderid": "o", "lines": [{"qty": 1}]})")) == "lines[0].sku is missing");
}

TEST_CASE("answers have the reference service's shapes") {
    CHECK(error_body("Invalid sku NOPE") == R"({"message":"Invalid sku NOPE"})");
    CHECK(batchref_body(batch_ref{"b1"}) == R"({"batchref":"b1"})");
    CHECK(allocations_body({{sku{"S"}, batch_ref{"b1"}}}) == R"([{"batchref":"b1","sku":"S"}])");
    CHECK(allocations_body({}) == "[]");
    CHECK(order_body(order_id{"o"}, {{sku{"S"}, quantity{2}, batch_ref{"b1"}}}) ==
          R"({"allocations":[{"batchref":"b1","qty":2,"sku":"S"}],"orderid":"o"})");
}

TEST_CASE("events are published with the documented fields, in the documented order") {
    CHECK(event_message(events::allocated{order_id{"o"}, sku{"S"}, quantity{2}, batch_ref{"b"}}) ==
          R"({"orderid":"o","sku":"S","qty":2,"batchref":"b"})");
    CHECK(event_message(events::deallocated{order_id{"o"}, sku{"S"}, quantity{2}, batch_ref{"b"}}) ==
          R"({"orderid":"o","sku":"S","qty":2,"batchref":"b"})");
    CHECK(event_message(events::out_of_stock{order_id{"o"}, sku{"S"}, quantity{2}}) == R"({"orderid":"o","sku":"S","qty":2})");
    CHECK(event_message(events::low_stock{sku{"S"}, quantity{1}, quantity{9}}) ==
          R"({"sku":"S","available":1,"reorder_qty":9})");
}

TEST_CASE("an order body may name a policy and a priority, both checked") {
    auto p = parse_allocate_order(R"({"orderid": "o", "lines": [{"sku": "A", "qty": 1}], "policy": "backorder", "priority": -3})");
    REQUIRE(p);
    CHECK(p.value().policy == order_policy::backorder);
    CHECK(p.value().priority == -3);
    auto plain = parse_allocate_order(R"({"orderid": "o", "lines": [{"sku": "A", "qty": 1}]})");
    REQUIRE(plain);
    CHECK(plain.value().policy == order_policy::all_or_nothing);
    CHECK(plain.value().priority == 0);
    CHECK(parse_allocate_order(R"({"orderid": "o", "lines": [{"sku": "A", "qty": 1}], "policy": "partial"})").value().policy ==
          order_policy::partial);
    const std::string bad_policy = R"(policy must be "all_or_nothing", "partial" or "backorder")";
    CHECK(refusal(parse_allocate_order(R"({"orderid": "o", "lines": [{"sku": "A", "qty": 1}], "policy": "some"})")) == bad_policy);
    CHECK(refusal(parse_allocate_order(R"({"orderid": "o", "lines": [{"sku": "A", "qty": 1}], "policy": 1})")) == bad_policy);
    for (const auto* priority : {"1.5", "\"2\"", "true", "1e30", "18446744073709551615"}) {
        CAPTURE(priority);
        CHECK(refusal(parse_allocate_order(
                  std::string(R"({"orderid": "o", "lines": [{"sku": "A", "qty": 1}], "priority": )") + priority + "}")) ==
              "priority must be an integer");
    }
}

TEST_CASE("a hold body becomes a Hold command with its lines and a ttl of 1 to 86400 seconds, 900 by default") {
    auto p = parse_hold(R"({"orderid": "o", "lines": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 1}], "ttl": 60})");
    REQUIRE(p);
    CHECK(p.value().order == order_id{"o"});
    REQUIRE(p.value().lines.size() == 2);
    CHECK(p.value().lines[0].qty == quantity{2});
    CHECK(p.value().ttl == 60s);
    CHECK(parse_hold(R"({"orderid": "o", "lines": [{"sku": "A", "qty": 2}]})").value().ttl == 900s);
    CHECK(parse_hold(R"({"orderid": "o", "lines": [{"sku": "A", "qty": 2}], "ttl": null})").value().ttl == 900s);
    CHECK(parse_hold(R"({"orderid": "o", "lines": [{"sku": "A", "qty": 2}], "ttl": 86400})").value().ttl == 86400s);
    for (const auto* ttl : {"0", "-1", "86401", "1.5", "\"10\"", "true", "[]"}) {
        CAPTURE(ttl);
        CHECK(refusal(parse_hold(std::string(R"({"orderid": "o", "lines": [{"sku": "A", "qty": 2}], "ttl": )") + ttl + "}")) ==
              "ttl must be a whole number of seconds from 1 to 86400");
    }
    CHECK(refusal(parse_hold(R"({"lines": [{"sku": "A", "qty": 2}]})")) == "orderid is missing");
    CHECK(refusal(parse_hold(R"({"orderid": "o", "lines": []})")) == "lines must be a non-empty array of {sku, qty}");
    CHECK(refusal(parse_hold(R"({"orderid": "o", "lines": [{"sku": "A", "qty": 0}]})")) ==
          "lines[0].qty must be an integer from 1 to 2147483647");
}

TEST_CASE("a confirmation body names the lines to confirm, each quantity from one, or none for everything") {
    auto all = parse_confirm_lines("{}");
    REQUIRE(all);
    CHECK_FALSE(all.value().has_value());
    CHECK_FALSE(parse_confirm_lines(R"({"lines": null})").value().has_value());
    auto some = parse_confirm_lines(R"({"lines": [{"sku": "A", "qty": 1}, {"sku": "B"}]})");
    REQUIRE(some);
    REQUIRE(some.value()->size() == 2);
    CHECK((*some.value())[0].qty == quantity{1});
    CHECK_FALSE((*some.value())[1].qty.has_value());
    CHECK(refusal(parse_confirm_lines(R"({"lines": []})")) == "lines must be a non-empty array of {sku, qty}");
    for (const auto* qty : {"0", "-1", "1.5", "\"1\""}) {
        CAPTURE(qty);
        CHECK(refusal(parse_confirm_lines(std::string(R"({"lines": [{"sku": "A", "qty": )") + qty + "}]}")) ==
              "lines[0].qty must be an integer from 1 to 2147483647");
    }
    CHECK(refusal(parse_confirm_lines("[]")) == "request body must be a JSON object");
}

TEST_CASE("hold, release, backorder and policy answers have the documented shapes") {
    const auto at = timestamp{std::chrono::sys_days{2011y / 1 / 2} + 10h + 15min + 7s + 250ms};
    CHECK(utc_text(at) == "2011-01-02T10:15:07Z");
    CHECK(utc_text(timestamp{}) == "1970-01-01T00:00:00Z");
    CHECK(hold_body(order_id{"o"}, at, {{sku{"B"}, quantity{1}, batch_ref{"b2"}}, {sku{"A"}, quantity{2}, batch_ref{"b1"}}}) ==
          R"({"expires_at":"2011-01-02T10:15:07Z","lines":[{"batchref":"b1","qty":2,"sku":"A"},{"batchref":"b2","qty":1,"sku":"B"}],"orderid":"o"})");
    CHECK(released_body(order_id{"o"}, {{sku{"A"}, quantity{2}, batch_ref{"b1"}}}) ==
          R"({"orderid":"o","released":[{"batchref":"b1","qty":2,"sku":"A"}]})");
    CHECK(backorders_body({backorder{order_id{"o"}, quantity{3}, 5, 1}}) == R"([{"orderid":"o","priority":5,"qty":3}])");
    CHECK(backorders_body({}) == "[]");
    commands::allocate_order partial{.order = order_id{"o"},
                                     .lines = {{sku{"A"}, quantity{2}}, {sku{"B"}, quantity{4}}, {sku{"A"}, quantity{1}}},
                                     .policy = order_policy::partial};
    CHECK(order_policy_body(partial, {{sku{"A"}, quantity{3}, batch_ref{"b1"}}, {sku{"B"}, quantity{1}, batch_ref{"b2"}}}) ==
          R"({"allocations":[{"batchref":"b1","qty":3,"sku":"A"},{"batchref":"b2","qty":1,"sku":"B"}],"orderid":"o","unallocated":[{"qty":3,"sku":"B"}]})");
    partial.policy = order_policy::backorder;
    CHECK(order_policy_body(partial, {}) ==
          R"({"allocations":[],"backordered":[{"qty":3,"sku":"A"},{"qty":4,"sku":"B"}],"orderid":"o"})");
}

TEST_CASE("hold and backorder events are published with the documented fields, in the documented order") {
    const auto at = timestamp{std::chrono::sys_days{2011y / 1 / 2} + 10h};
    CHECK(event_message(events::hold_placed{order_id{"o"}, sku{"S"}, quantity{2}, batch_ref{"b"}, at}) ==
          R"({"orderid":"o","sku":"S","qty":2,"batchref":"b","expires_at":"2011-01-02T10:00:00Z"})");
    CHECK(event_message(events::hold_released{order_id{"o"}, sku{"S"}, quantity{2}, batch_ref{"b"}}) ==
          R"({"orderid":"o","sku":"S","qty":2,"batchref":"b"})");
    CHECK(event_message(events::hold_expired{order_id{"o"}, sku{"S"}, quantity{2}, batch_ref{"b"}}) ==
          R"({"orderid":"o","sku":"S","qty":2,"batchref":"b"})");
    CHECK(event_message(events::backordered{order_id{"o"}, sku{"S"}, quantity{2}, 7}) == R"({"orderid":"o","sku":"S","qty":2})");
}

TEST_CASE("a date is written YYYY-MM-DD and none as null") {
    CHECK(date_json(date{2011y / 1 / 2}) == "2011-01-02");
    CHECK(date_json(std::nullopt).is_null());
}

}  // TEST_SUITE
}  // namespace json_api_tests
