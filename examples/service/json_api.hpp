// allocation-service — the JSON API: request bodies to commands (with the reason a body is
// refused), and commands' answers and events to JSON.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_SERVICE_JSON_API_HPP
#define ALLOCATION_SERVICE_JSON_API_HPP

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

/// `POST /orders` `{orderid, lines: [{sku, qty}, ...]}`.
[[nodiscard]] inline auto parse_allocate_order(std::string_view body) -> parsed<commands::allocate_order> {
    auto obj = detail::parse_object(body);
    if (!obj) return obj.error();
    const auto& j = obj.value();
    auto order = detail::identifier<order_id>(j, "orderid");
    if (!order) return order.error();
    const auto it = j.find("lines");
    if (it == j.end() || it->is_null()) return detail::bad("lines is missing");
    if (!it->is_array() || it->empty()) return detail::bad("lines must be a non-empty array of {sku, qty}");
    if (it->size() > max_order_lines) {
        return detail::bad(fmt::format("lines must have at most {} entries", max_order_lines));
    }
    commands::allocate_order out{.order = std::move(order).value(), .lines = {}};
    out.lines.reserve(it->size());
    for (std::size_t i = 0; i < it->size(); ++i) {
        const auto where = fmt::format("lines[{}].", i);
        const auto& line = (*it)[i];
        if (!line.is_object()) return detail::bad(fmt::format("lines[{}] must be an object {{sku, qty}}", i));
        auto s = detail::identifier<sku>(line, "sku", where);
        if (!s) return s.error();
        auto qty = detail::required_count(line, "qty", detail::quantity_kind::line, where);
        if (!qty) return qty.error();
        out.lines.push_back({.sku = std::move(s).value(), .qty = qty.value()});
    }
    return out;
}

// ---- answers --------------------------------------------------------------------------------

[[nodiscard]] inline auto batchref_body(const batch_ref& ref) -> std::string {
    return dump(json{{"batchref", ref.value}});
}

[[nodiscard]] inline auto date_json(const std::optional<date>& d) -> json {
    if (!d) return nullptr;
    return fmt::format("{}", *d);
}

/// `POST /orders` → `{"orderid", "allocations": [{"sku", "qty", "batchref"}, ...]}`.
[[nodiscard]] inline auto order_body(const order_id& order, const std::vector<line_allocation>& lines) -> std::string {
    auto list = json::array();
    for (const auto& line : lines) {
        list.push_back({{"sku", line.sku.value}, {"qty", line.qty.value}, {"batchref", line.batch.value}});
    }
    return dump(json{{"orderid", order.value}, {"allocations", std::move(list)}});
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
                           {"available", allocation::detail::count(b.available())}});
    }
    return dump(json{{"sku", p.sku.value},
                     {"version", p.version},
                     {"available", allocation::detail::count(p.available)},
                     {"batches", std::move(batches)}});
}

// ---- events, as published on Redis ----------------------------------------------------------
// Keys in the documented order (ordered_json): {orderid, sku, qty, batchref}, ...

[[nodiscard]] inline auto event_message(const events::allocated& e) -> std::string {
    return nlohmann::ordered_json{{"orderid", e.order.value}, {"sku", e.sku.value}, {"qty", e.qty.value}, {"batchref", e.batch.value}}
        .dump(-1, ' ', false, json::error_handler_t::replace);
}
[[nodiscard]] inline auto event_message(const events::deallocated& e) -> std::string {
    return nlohmann::ordered_json{{"orderid", e.order.value}, {"sku", e.sku.value}, {"qty", e.qty.value}, {"batchref", e.batch.value}}
        .dump(-1, ' ', false, json::error_handler_t::replace);
}
[[nodiscard]] inline auto event_message(const events::out_of_stock& e) -> std::string {
    return nlohmann::ordered_json{{"orderid", e.order.value}, {"sku", e.sku.value}, {"qty", e.qty.value}}
        .dump(-1, ' ', false, json::error_handler_t::replace);
}
[[nodiscard]] inline auto event_message(const events::low_stock& e) -> std::string {
    return nlohmann::ordered_json{{"sku", e.sku.value}, {"available", e.available.value}, {"reorder_qty", e.reorder_qty.value}}
        .dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace allocation::service

#endif  // ALLOCATION_SERVICE_JSON_API_HPP
