// allocation-service — the JSON API: request bodies to commands (with the reason a body is
// refused), and commands' answers and events to JSON.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_SERVICE_JSON_API_HPP
#define ALLOCATION_SERVICE_JSON_API_HPP

#include <algorithm>    // find_if, sort
#include <chrono>       // floor, days, year_month_day, hh_mm_ss
#include <cstdint>      // int64_t, uint64_t
#include <limits>       // numeric_limits
#include <optional>     // optional
#include <string>       // string
#include <string_view>  // string_view
#include <utility>      // move
#include <vector>       // vector

#include <allocation/domain/commands.hpp>
#include <allocation/domain/events.hpp>
#include <allocation/domain/types.hpp>
#include <allocation/domain/validation.hpp>
#include <allocation/ports/allocations_view.hpp>
#include <allocation/ports/product_reader.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "iso_date.hpp"
#include "parsed.hpp"
#include "strict_json.hpp"

namespace allocation::service {

/// Serialises JSON. Never throws on bad UTF-8 (replaced), although every identifier we write
/// has been validated.
[[nodiscard]] inline auto dump(const json& j) -> std::string {
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

/// The body of every error answer: `{"message": ...}`.
[[nodiscard]] inline auto error_body(std::string_view message) -> std::string {
    return dump(json{{"message", message}});
}

namespace detail {

inline auto bad(std::string message) -> api_error { return {400, std::move(message)}; }

/// Parses a body that must be one JSON object (see parse_json_body for what is refused).
[[nodiscard]] inline auto parse_object(std::string_view body) -> parsed<json> {
    auto j = parse_json_body(body);
    if (!j) return j;
    if (!j.value().is_object()) return bad("request body must be a JSON object");
    return j;
}

template <class Id>
[[nodiscard]] auto identifier(const json& obj, const char* field, std::string_view where = {}) -> parsed<Id> {
    const auto name = std::string(where) + field;
    const auto it = obj.find(field);
    if (it == obj.end() || it->is_null()) return bad(name + " is missing");
    if (!it->is_string()) return bad(name + " must be a string");
    Id id{it->get_ref<const std::string&>()};
    if (!validate::identifier<default_traits>(id)) return bad(validate::identifier_message(name));
    return id;
}

/// What a quantity is: of an order line (from 1) or of a batch (from 0).
enum class quantity_kind { line, batch };

/// A JSON integer that the library's validation takes as a quantity of `kind`; 1.5, "3", true
/// and 1e3 are refused.
[[nodiscard]] inline auto quantity_from(const json& value, const std::string& name, quantity_kind kind) -> parsed<quantity> {
    const auto refused = [&] {
        return bad(kind == quantity_kind::line ? validate::line_quantity_message(name) : validate::batch_quantity_message(name));
    };
    std::optional<quantity> q;
    if (value.is_number_unsigned()) {
        const auto n = value.get<std::uint64_t>();
        if (n <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) q = quantity{static_cast<std::int64_t>(n)};
    } else if (value.is_number_integer()) {
        q = quantity{value.get<std::int64_t>()};
    }
    if (!q) return refused();
    const auto valid = kind == quantity_kind::line ? validate::line_quantity<default_traits>(*q)
                                                   : validate::batch_quantity<default_traits>(*q);
    if (!valid) return refused();
    return *q;
}

[[nodiscard]] inline auto required_count(const json& obj, const char* field, quantity_kind kind, std::string_view where = {})
    -> parsed<quantity> {
    const auto name = std::string(where) + field;
    const auto it = obj.find(field);
    if (it == obj.end() || it->is_null()) return bad(name + " is missing");
    return quantity_from(*it, name, kind);
}

/// An optional date: absent or null is none, else an ISO 8601 text as the reference reads it
/// (date_from_isoformat), of which the date part is kept.
[[nodiscard]] inline auto optional_date(const json& obj, const char* field) -> parsed<std::optional<date>> {
    const auto it = obj.find(field);
    if (it == obj.end() || it->is_null()) return std::optional<date>{};
    const auto message = std::string(field) + " must be null or an ISO 8601 date or date and time, e.g. 2011-01-02";
    if (!it->is_string()) return bad(message);
    auto d = date_from_isoformat(it->get_ref<const std::string&>());
    if (!d) return bad(message);
    return std::optional<date>{*d};
}

}  // namespace detail

/// `POST /add_batch` `{ref, sku, qty, eta}`; qty from 1.
[[nodiscard]] inline auto parse_create_batch(std::string_view body) -> parsed<commands::create_batch> {
    auto obj = detail::parse_object(body);
    if (!obj) return obj.error();
    const auto& j = obj.value();
    auto ref = detail::identifier<batch_ref>(j, "ref");
    if (!ref) return ref.error();
    auto s = detail::identifier<sku>(j, "sku");
    if (!s) return s.error();
    auto qty = detail::required_count(j, "qty", detail::quantity_kind::line);
    if (!qty) return qty.error();
    auto eta = detail::optional_date(j, "eta");
    if (!eta) return eta.error();
    return commands::create_batch{.ref = std::move(ref).value(), .sku = std::move(s).value(),
                                  .qty = qty.value(), .eta = eta.value(), .expires = std::nullopt};
}

/// `POST /allocate` `{orderid, sku, qty}`.
[[nodiscard]] inline auto parse_allocate(std::string_view body) -> parsed<commands::allocate> {
    auto obj = detail::parse_object(body);
    if (!obj) return obj.error();
    const auto& j = obj.value();
    auto order = detail::identifier<order_id>(j, "orderid");
    if (!order) return order.error();
    auto s = detail::identifier<sku>(j, "sku");
    if (!s) return s.error();
    auto qty = detail::required_count(j, "qty", detail::quantity_kind::line);
    if (!qty) return qty.error();
    return commands::allocate{.order = std::move(order).value(), .sku = std::move(s).value(), .qty = qty.value()};
}

/// `POST /deallocate` `{orderid, sku, qty?}`.
[[nodiscard]] inline auto parse_deallocate(std::string_view body) -> parsed<commands::deallocate> {
    auto obj = detail::parse_object(body);
    if (!obj) return obj.error();
    const auto& j = obj.value();
    auto order = detail::identifier<order_id>(j, "orderid");
    if (!order) return order.error();
    auto s = detail::identifier<sku>(j, "sku");
    if (!s) return s.error();
    std::optional<quantity> qty;
    if (const auto it = j.find("qty"); it != j.end() && !it->is_null()) {
        auto q = detail::quantity_from(*it, "qty", detail::quantity_kind::line);
        if (!q) return q.error();
        qty = q.value();
    }
    return commands::deallocate{.order = std::move(order).value(), .sku = std::move(s).value(), .qty = qty};
}

/// `POST /change_batch_quantity` and the Redis channel of the same name: `{batchref, qty}`,
/// qty from 0.
[[nodiscard]] inline auto parse_change_batch_quantity(std::string_view body)
    -> parsed<commands::change_batch_quantity> {
    auto obj = detail::parse_object(body);
    if (!obj) return obj.error();
    const auto& j = obj.value();
    auto ref = detail::identifier<batch_ref>(j, "batchref");
    if (!ref) return ref.error();
    auto qty = detail::required_count(j, "qty", detail::quantity_kind::batch);
    if (!qty) return qty.error();
    return commands::change_batch_quantity{.ref = std::move(ref).value(), .qty = qty.value()};
}

/// The most lines one order may have.
inline constexpr std::size_t max_order_lines = 1000;

/// The longest and default time a hold lives, in seconds.
inline constexpr std::int64_t max_hold_ttl = 86400;
inline constexpr std::int64_t default_hold_ttl = 900;

namespace detail {

/// The `lines` array of a body: 1..max_order_lines objects, each read by `read(line, where)`
/// (where = "lines[i].").
template <class Item, class Read>
[[nodiscard]] auto lines_of(const json& j, Read&& read) -> parsed<std::vector<Item>> {
    const auto it = j.find("lines");
    if (it == j.end() || it->is_null()) return bad("lines is missing");
    if (!it->is_array() || it->empty()) return bad("lines must be a non-empty array of {sku, qty}");
    if (it->size() > max_order_lines) return bad(fmt::format("lines must have at most {} entries", max_order_lines));
    std::vector<Item> out;
    out.reserve(it->size());
    for (std::size_t i = 0; i < it->size(); ++i) {
        const auto& line = (*it)[i];
        if (!line.is_object()) return bad(fmt::format("lines[{}] must be an object {{sku, qty}}", i));
        auto item = read(line, fmt::format("lines[{}].", i));
        if (!item) return item.error();
        out.push_back(std::move(item).value());
    }
    return out;
}

/// `{sku, qty}` with qty from 1.
[[nodiscard]] inline auto order_item_of(const json& line, const std::string& where) -> parsed<commands::order_item> {
    auto s = identifier<sku>(line, "sku", where);
    if (!s) return s.error();
    auto qty = required_count(line, "qty", quantity_kind::line, where);
    if (!qty) return qty.error();
    return commands::order_item{.sku = std::move(s).value(), .qty = qty.value()};
}

/// An optional JSON integer field: absent or null is `fallback`; 1.5, "3" and true are refused.
[[nodiscard]] inline auto optional_integer(const json& obj, const char* field, std::int64_t fallback, std::int64_t min,
                                           std::int64_t max, std::string_view refusal) -> parsed<std::int64_t> {
    const auto it = obj.find(field);
    if (it == obj.end() || it->is_null()) return fallback;
    std::optional<std::int64_t> n;
    if (it->is_number_unsigned()) {
        const auto u = it->get<std::uint64_t>();
        if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) n = static_cast<std::int64_t>(u);
    } else if (it->is_number_integer()) {
        n = it->get<std::int64_t>();
    }
    if (!n || *n < min || *n > max) return bad(std::string(refusal));
    return *n;
}

/// What a body naming an order's lines has: the object, its orderid and its lines.
struct order_lines {
    json object;
    order_id order;
    std::vector<commands::order_item> lines;
};

/// `{orderid, lines: [{sku, qty}, ...], ...}`.
[[nodiscard]] inline auto order_lines_of(std::string_view body) -> parsed<order_lines> {
    auto obj = parse_object(body);
    if (!obj) return obj.error();
    auto order = identifier<order_id>(obj.value(), "orderid");
    if (!order) return order.error();
    auto lines = lines_of<commands::order_item>(obj.value(), order_item_of);
    if (!lines) return lines.error();
    return order_lines{std::move(obj).value(), std::move(order).value(), std::move(lines).value()};
}

}  // namespace detail

/// `POST /orders` `{orderid, lines: [{sku, qty}, ...], policy?, priority?}`: policy
/// "all_or_nothing" (the default), "partial" or "backorder"; priority an integer (default 0).
[[nodiscard]] inline auto parse_allocate_order(std::string_view body) -> parsed<commands::allocate_order> {
    auto read = detail::order_lines_of(body);
    if (!read) return read.error();
    auto& [j, order, lines] = read.value();
    commands::allocate_order out{.order = std::move(order), .lines = std::move(lines)};
    if (const auto it = j.find("policy"); it != j.end() && !it->is_null()) {
        const auto* text = it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
        if (text != nullptr && *text == "all_or_nothing") {
            out.policy = order_policy::all_or_nothing;
        } else if (text != nullptr && *text == "partial") {
            out.policy = order_policy::partial;
        } else if (text != nullptr && *text == "backorder") {
            out.policy = order_policy::backorder;
        } else {
            return detail::bad(R"(policy must be "all_or_nothing", "partial" or "backorder")");
        }
    }
    auto priority = detail::optional_integer(j, "priority", 0, std::numeric_limits<std::int64_t>::min(),
                                             std::numeric_limits<std::int64_t>::max(), "priority must be an integer");
    if (!priority) return priority.error();
    out.priority = priority.value();
    return out;
}

/// `POST /holds` `{orderid, lines: [{sku, qty}, ...], ttl?}`: ttl in whole seconds, 1..86400,
/// default 900.
[[nodiscard]] inline auto parse_hold(std::string_view body) -> parsed<commands::hold> {
    auto read = detail::order_lines_of(body);
    if (!read) return read.error();
    auto& [j, order, lines] = read.value();
    auto ttl = detail::optional_integer(j, "ttl", default_hold_ttl, 1, max_hold_ttl,
                                        fmt::format("ttl must be a whole number of seconds from 1 to {}", max_hold_ttl));
    if (!ttl) return ttl.error();
    return commands::hold{.order = std::move(order), .lines = std::move(lines), .ttl = std::chrono::seconds{ttl.value()}};
}

/// `POST /holds/<orderid>/confirm` `{}` or `{lines: [{sku, qty?}, ...]}`: the lines to confirm
/// (qty from 1, validated as for /allocate; absent: all of the line), none when every line is
/// confirmed whole.
[[nodiscard]] inline auto parse_confirm_lines(std::string_view body) -> parsed<std::optional<std::vector<commands::confirm_item>>> {
    using out_type = std::optional<std::vector<commands::confirm_item>>;
    auto obj = detail::parse_object(body);
    if (!obj) return obj.error();
    const auto& j = obj.value();
    if (const auto it = j.find("lines"); it == j.end() || it->is_null()) return out_type{};
    auto lines = detail::lines_of<commands::confirm_item>(j, [](const json& line, const std::string& where) -> parsed<commands::confirm_item> {
        auto s = detail::identifier<sku>(line, "sku", where);
        if (!s) return s.error();
        commands::confirm_item item{.sku = std::move(s).value(), .qty = std::nullopt};
        if (const auto q = line.find("qty"); q != line.end() && !q->is_null()) {
            auto qty = detail::quantity_from(*q, where + "qty", detail::quantity_kind::line);
            if (!qty) return qty.error();
            item.qty = qty.value();
        }
        return item;
    });
    if (!lines) return lines.error();
    return out_type{std::move(lines).value()};
}

// ---- answers --------------------------------------------------------------------------------

[[nodiscard]] inline auto batchref_body(const batch_ref& ref) -> std::string {
    return dump(json{{"batchref", ref.value}});
}

[[nodiscard]] inline auto date_json(const std::optional<date>& d) -> json {
    if (!d) return nullptr;
    return fmt::format("{}", *d);
}

/// A time as `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds below).
[[nodiscard]] inline auto utc_text(timestamp t) -> std::string {
    const auto day = std::chrono::floor<std::chrono::days>(t);
    const std::chrono::year_month_day ymd{day};
    const std::chrono::hh_mm_ss time{std::chrono::floor<std::chrono::seconds>(t - day)};
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                       static_cast<unsigned>(ymd.day()), time.hours().count(), time.minutes().count(), time.seconds().count());
}

namespace detail {
[[nodiscard]] inline auto line_list(const std::vector<line_allocation>& lines) -> json {
    auto list = json::array();
    for (const auto& line : lines) {
        list.push_back({{"sku", line.sku.value}, {"qty", line.qty.value}, {"batchref", line.batch.value}});
    }
    return list;
}
}  // namespace detail

/// `POST /orders` → `{"orderid", "allocations": [{"sku", "qty", "batchref"}, ...]}`.
[[nodiscard]] inline auto order_body(const order_id& order, const std::vector<line_allocation>& lines) -> std::string {
    return dump(json{{"orderid", order.value}, {"allocations", detail::line_list(lines)}});
}

/// `POST /orders` under the partial and backorder policies: order_body and, under `rest_key`
/// ("unallocated" or "backordered"), what each line (lines of one SKU summed, in the order the
/// SKUs first appear) asked and did not get: `[{"sku", "qty"}, ...]`.
[[nodiscard]] inline auto order_policy_body(const commands::allocate_order& c, const std::vector<line_allocation>& lines)
    -> std::string {
    std::vector<std::pair<sku, std::int64_t>> rest;  // SKU -> asked minus allocated
    for (const auto& line : c.lines) {
        const auto it = std::find_if(rest.begin(), rest.end(), [&](const auto& r) { return r.first == line.sku; });
        if (it == rest.end()) {
            rest.emplace_back(line.sku, line.qty.value);
        } else {
            it->second += line.qty.value;
        }
    }
    for (const auto& a : lines) {
        const auto it = std::find_if(rest.begin(), rest.end(), [&](const auto& r) { return r.first == a.sku; });
        if (it != rest.end()) it->second -= a.qty.value;
    }
    auto list = json::array();
    for (const auto& [s, qty] : rest) {
        if (qty > 0) list.push_back({{"sku", s.value}, {"qty", qty}});
    }
    const auto* key = c.policy == order_policy::backorder ? "backordered" : "unallocated";
    return dump(json{{"orderid", c.order.value}, {"allocations", detail::line_list(lines)}, {key, std::move(list)}});
}

/// `POST /holds` and `GET /holds/<orderid>` → `{"orderid", "expires_at", "lines": [{"sku",
/// "qty", "batchref"}, ...]}`, lines in SKU order.
[[nodiscard]] inline auto hold_body(const order_id& order, timestamp expires_at, std::vector<line_allocation> lines)
    -> std::string {
    std::sort(lines.begin(), lines.end(), [](const auto& a, const auto& b) { return a.sku < b.sku; });
    return dump(json{{"orderid", order.value}, {"expires_at", utc_text(expires_at)}, {"lines", detail::line_list(lines)}});
}

/// `DELETE /holds/<orderid>` → `{"orderid", "released": [{"sku", "qty", "batchref"}, ...]}`.
[[nodiscard]] inline auto released_body(const order_id& order, const std::vector<line_allocation>& lines) -> std::string {
    return dump(json{{"orderid", order.value}, {"released", detail::line_list(lines)}});
}

/// `GET /backorders/<sku>` → `[{"orderid", "qty", "priority"}, ...]` in fill order.
[[nodiscard]] inline auto backorders_body(const std::vector<backorder>& queue) -> std::string {
    auto list = json::array();
    for (const auto& o : queue) {
        list.push_back({{"orderid", o.order.value}, {"qty", allocation::detail::count(o.qty)}, {"priority", o.priority}});
    }
    return dump(list);
}

/// `GET /allocations/<orderid>` → `[{"sku", "batchref"}, ...]`, exactly the reference's shape.
[[nodiscard]] inline auto allocations_body(const std::vector<allocation_row>& rows) -> std::string {
    auto list = json::array();
    for (const auto& row : rows) {
        list.push_back({{"sku", row.sku.value}, {"batchref", row.batch.value}});
    }
    return dump(list);
}

/// `GET /products/<sku>` → `{"sku", "version", "available", "batches": [...]}` from a product's
/// committed state (its batches in preference order).
[[nodiscard]] inline auto product_body(const product_state& p) -> std::string {
    auto batches = json::array();
    for (const auto& b : p.batches) {
        batches.push_back({{"ref", b.ref.value},
                           {"eta", date_json(b.eta)},
                           {"purchased", allocation::detail::count(b.purchased)},
                           {"allocated", allocation::detail::count(b.allocated)},
                           {"held", allocation::detail::count(b.held)},
                           {"available", allocation::detail::count(b.available())}});
    }
    return dump(json{{"sku", p.sku.value},
                     {"version", p.version},
                     {"available", allocation::detail::count(p.available)},
                     {"batches", std::move(batches)}});
}

// ---- events, as published on Redis ----------------------------------------------------------
// Keys in the documented order (ordered_json): {orderid, sku, qty, batchref}, ...

namespace detail {
/// `{orderid, sku, qty}` of an event about an order line, and `batchref` when it has a batch.
template <class Event>
[[nodiscard]] auto line_fields(const Event& e) -> nlohmann::ordered_json {
    nlohmann::ordered_json j{{"orderid", e.order.value}, {"sku", e.sku.value}, {"qty", e.qty.value}};
    if constexpr (requires { e.batch; }) j["batchref"] = e.batch.value;
    return j;
}
[[nodiscard]] inline auto message_text(const nlohmann::ordered_json& j) -> std::string {
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}
}  // namespace detail

[[nodiscard]] inline auto event_message(const events::allocated& e) -> std::string { return detail::message_text(detail::line_fields(e)); }
[[nodiscard]] inline auto event_message(const events::deallocated& e) -> std::string { return detail::message_text(detail::line_fields(e)); }
[[nodiscard]] inline auto event_message(const events::out_of_stock& e) -> std::string { return detail::message_text(detail::line_fields(e)); }
[[nodiscard]] inline auto event_message(const events::hold_released& e) -> std::string { return detail::message_text(detail::line_fields(e)); }
[[nodiscard]] inline auto event_message(const events::hold_expired& e) -> std::string { return detail::message_text(detail::line_fields(e)); }
[[nodiscard]] inline auto event_message(const events::backordered& e) -> std::string { return detail::message_text(detail::line_fields(e)); }
[[nodiscard]] inline auto event_message(const events::hold_placed& e) -> std::string {
    auto j = detail::line_fields(e);
    j["expires_at"] = utc_text(e.expires_at);
    return detail::message_text(j);
}
[[nodiscard]] inline auto event_message(const events::low_stock& e) -> std::string {
    return detail::message_text({{"sku", e.sku.value}, {"available", e.available.value}, {"reorder_qty", e.reorder_qty.value}});
}

}  // namespace allocation::service

#endif  // ALLOCATION_SERVICE_JSON_API_HPP
