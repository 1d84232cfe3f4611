// allocation fuzzing — the request bodies of every endpoint of the example service: whatever
// the bytes, decoding never crashes, recurses on them, or accepts what the API refuses, and an
// accepted body gives a command with valid fields.
// SPDX-License-Identifier: MIT
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "idempotency.hpp"
#include "iso_date.hpp"
#include "json_api.hpp"
#include "strict_json.hpp"

using namespace allocation;
using namespace allocation::service;

namespace {

/// Stops the run (libFuzzer saves the input) when a property does not hold.
void require(bool holds, int line, std::string_view body) {
    if (holds) return;
    std::fprintf(stderr, "json_body.cpp:%d: property failed (body of %zu bytes)\n", line, body.size());
    std::abort();
}

/// The nesting depth of a value, walked with an explicit stack.
auto depth(const json& root) -> std::size_t {
    std::size_t deepest = 0;
    std::vector<std::pair<const json*, std::size_t>> todo{{&root, 1}};
    while (!todo.empty()) {
        const auto [j, d] = todo.back();
        todo.pop_back();
        if (!j->is_structured()) continue;
        deepest = std::max(deepest, d);
        for (const auto& child : *j) todo.emplace_back(&child, d + 1);
    }
    return deepest;
}

auto valid_id(const std::string& s) -> bool { return is_valid_identifier(s); }

/// A refusal is a 400 with a message that is itself a valid error body.
template <class T>
void check_refusal(const parsed<T>& p, const parsed<json>& value, std::string_view body) {
    require(p.error().status == 400, __LINE__, body);
    require(!p.error().message.empty(), __LINE__, body);
    const auto answer = parse_json_body(error_body(p.error().message));
    require(answer && answer.value().at("message").is_string(), __LINE__, body);
    if (!value) require(p.error().message == value.error().message, __LINE__, body);  // the JSON's own reason comes first
}

}  // namespace

extern "C" auto LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) -> int {
    const std::string_view body(reinterpret_cast<const char*>(data), size);

    const auto value = parse_json_body(body);
    if (value) {
        require(depth(value.value()) <= max_json_depth, __LINE__, body);
        const auto again = parse_json_body(dump(value.value()));  // what we write, we read back the same
        require(again && again.value() == value.value(), __LINE__, body);
    } else {
        require(value.error().status == 400 && !value.error().message.empty(), __LINE__, body);
    }
    require(request_fingerprint("POST", "/allocate", body) == request_fingerprint("POST", "/allocate", body), __LINE__, body);

    if (auto c = parse_create_batch(body)) {
        const auto& v = c.value();
        require(valid_id(v.ref.value) && valid_id(v.sku.value), __LINE__, body);
        require(v.qty.value >= 1 && v.qty.value <= max_quantity, __LINE__, body);
        require(!v.eta || v.eta->ok(), __LINE__, body);
    } else {
        check_refusal(c, value, body);
    }
    if (auto c = parse_allocate(body)) {
        const auto& v = c.value();
        require(valid_id(v.order.value) && valid_id(v.sku.value), __LINE__, body);
        require(v.qty.value >= 1 && v.qty.value <= max_quantity, __LINE__, body);
    } else {
        check_refusal(c, value, body);
    }
    if (auto c = parse_deallocate(body)) {
        const auto& v = c.value();
        require(valid_id(v.order.value) && valid_id(v.sku.value), __LINE__, body);
        require(!v.qty || (v.qty->value >= 1 && v.qty->value <= max_quantity), __LINE__, body);
    } else {
        check_refusal(c, value, body);
    }
    if (auto c = parse_change_batch_quantity(body)) {
        const auto& v = c.value();
        require(valid_id(v.ref.value), __LINE__, body);
        require(v.qty.value >= 0 && v.qty.value <= max_quantity, __LINE__, body);
    } else {
        check_refusal(c, value, body);
    }
    if (auto c = parse_allocate_order(body)) {
        const auto& v = c.value();
        require(valid_id(v.order.value), __LINE__, body);
        require(!v.lines.empty() && v.lines.size() <= max_order_lines, __LINE__, body);
        for (const auto& l : v.lines) require(valid_id(l.sku.value) && l.qty.value >= 1 && l.qty.value <= max_quantity, __LINE__, body);
    } else {
        check_refusal(c, value, body);
    }

    // The same bytes as an `eta` text: an accepted date is a real day, and its own
    // YYYY-MM-DD form reads back as the same day.
    if (const auto d = date_from_isoformat(body)) {
        require(d->ok() && d->year() >= std::chrono::year{1} && d->year() <= std::chrono::year{9999}, __LINE__, body);
        require(date_from_isoformat(fmt::format("{}", *d)) == d, __LINE__, body);
    }
    return 0;
}
