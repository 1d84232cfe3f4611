// allocation-service tests — checks answers against the service's OpenAPI 3 document: a small
// validator of the schema keywords the document uses, and the documented statuses of each
// operation.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_TESTS_SERVICE_OPENAPI_CHECK_HPP
#define ALLOCATION_TESTS_SERVICE_OPENAPI_CHECK_HPP

#include <algorithm>    // min
#include <cctype>       // tolower
#include <chrono>       // year_month_day
#include <cstddef>      // size_t
#include <optional>     // optional
#include <set>          // set
#include <string>       // string
#include <string_view>  // string_view
#include <vector>       // vector

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace allocation::test::openapi {

using json = nlohmann::json;

namespace detail {

inline auto code_points(const std::string& s) -> std::size_t {
    std::size_t n = 0;
    for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0U) != 0x80U ? 1 : 0;
    return n;
}

/// RFC 3339 full-date: YYYY-MM-DD, a real day.
inline auto is_date(const std::string& s) -> bool {
    if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
    for (const std::size_t i : {0U, 1U, 2U, 3U, 5U, 6U, 8U, 9U}) {
        if (s[i] < '0' || s[i] > '9') return false;
    }
    const auto num = [&](std::size_t from, std::size_t n) { return std::stoi(s.substr(from, n)); };
    const std::chrono::year_month_day d{std::chrono::year{num(0, 4)}, std::chrono::month{static_cast<unsigned>(num(5, 2))},
                                        std::chrono::day{static_cast<unsigned>(num(8, 2))}};
    return d.ok();
}

inline auto type_matches(const std::string& type, const json& v) -> bool {
    if (type == "object") return v.is_object();
    if (type == "array") return v.is_array();
    if (type == "string") return v.is_string();
    if (type == "integer") return v.is_number_integer();
    if (type == "number") return v.is_number();
    if (type == "boolean") return v.is_boolean();
    return false;
}

/// Keywords that say something about a value and are checked; others that only document.
inline const std::set<std::string> checked_keywords{"$ref", "type", "nullable", "enum", "format", "properties", "required",
                                                    "additionalProperties", "items", "minItems", "maxItems", "minimum",
                                                    "maximum", "minLength", "maxLength"};
inline const std::set<std::string> documenting_keywords{"description", "example"};

}  // namespace detail

/// The schema a "#/components/..." reference names; none when it does not resolve.
inline auto resolve(const json& doc, const std::string& ref) -> const json* {
    if (!ref.starts_with("#/")) return nullptr;
    const json* at = &doc;
    std::size_t from = 2;
    while (from <= ref.size()) {
        const auto to = std::min(ref.find('/', from), ref.size());
        const auto key = ref.substr(from, to - from);
        if (!at->is_object() || !at->contains(key)) return nullptr;
        at = &(*at)[key];
        from = to + 1;
    }
    return at;
}

/// What is wrong with `value` against `schema` (an OpenAPI 3.0 schema object of `doc`), each
/// message naming the place in the value ($.batches[0].eta); empty when it conforms. A keyword
/// outside the supported subset is reported too, so that nothing is silently left unchecked.
inline auto schema_errors(const json& doc, const json& schema, const json& value, const std::string& where = "$")
    -> std::vector<std::string> {
    std::vector<std::string> out;
    auto bad = [&](std::string what) { out.push_back(fmt::format("{}: {}", where, what)); };
    if (!schema.is_object()) {
        bad("the schema is not an object");
        return out;
    }
    for (const auto& [key, unused] : schema.items()) {
        if (!detail::checked_keywords.contains(key) && !detail::documenting_keywords.contains(key)) {
            bad(fmt::format("unsupported schema keyword {}", key));
        }
    }
    if (schema.contains("$ref")) {
        const auto* target = resolve(doc, schema["$ref"].get<std::string>());
        if (target == nullptr) {
            bad(fmt::format("unresolved reference {}", schema["$ref"].dump()));
            return out;
        }
        auto more = schema_errors(doc, *target, value, where);
        out.insert(out.end(), more.begin(), more.end());
        return out;
    }
    if (value.is_null()) {
        if (!schema.value("nullable", false)) bad("null where the schema does not allow it");
        return out;
    }
    if (schema.contains("type") && !detail::type_matches(schema["type"].get<std::string>(), value)) {
        bad(fmt::format("{} is not of type {}", value.dump(), schema["type"].get<std::string>()));
        return out;
    }
    if (schema.contains("enum")) {
        bool found = false;
        for (const auto& e : schema["enum"]) found = found || e == value;
        if (!found) bad(fmt::format("{} is not one of {}", value.dump(), schema["enum"].dump()));
    }
    if (schema.contains("format")) {
        const auto format = schema["format"].get<std::string>();
        if (format != "date") {
            bad(fmt::format("unsupported format {}", format));
        } else if (!value.is_string() || !detail::is_date(value.get<std::string>())) {
            bad(fmt::format("{} is not a date YYYY-MM-DD", value.dump()));
        }
    }
    if (value.is_number()) {
        if (schema.contains("minimum") && value.get<double>() < schema["minimum"].get<double>()) {
            bad(fmt::format("{} is below the minimum {}", value.dump(), schema["minimum"].dump()));
        }
        if (schema.contains("maximum") && value.get<double>() > schema["maximum"].get<double>()) {
            bad(fmt::format("{} is above the maximum {}", value.dump(), schema["maximum"].dump()));
        }
    }
    if (value.is_string()) {
        const auto n = detail::code_points(value.get<std::string>());
        if (schema.contains("minLength") && n < schema["minLength"].get<std::size_t>()) bad("string shorter than minLength");
        if (schema.contains("maxLength") && n > schema["maxLength"].get<std::size_t>()) bad("string longer than maxLength");
    }
    if (value.is_array()) {
        if (schema.contains("minItems") && value.size() < schema["minItems"].get<std::size_t>()) bad("fewer items than minItems");
        if (schema.contains("maxItems") && value.size() > schema["maxItems"].get<std::size_t>()) bad("more items than maxItems");
        if (schema.contains("items")) {
            for (std::size_t i = 0; i < value.size(); ++i) {
                auto more = schema_errors(doc, schema["items"], value[i], fmt::format("{}[{}]", where, i));
                out.insert(out.end(), more.begin(), more.end());
            }
        }
    }
    if (value.is_object()) {
        const auto properties = schema.value("properties", json::object());
        for (const auto& name : schema.value("required", json::array())) {
            if (!value.contains(name.get<std::string>())) bad(fmt::format("required property {} is missing", name.dump()));
        }
        for (const auto& [name, v] : value.items()) {
            if (properties.contains(name)) {
                auto more = schema_errors(doc, properties[name], v, fmt::format("{}.{}", where, name));
                out.insert(out.end(), more.begin(), more.end());
            } else if (schema.contains("additionalProperties") && schema["additionalProperties"] == false) {
                bad(fmt::format("property {} is not in the schema", json(name).dump()));
            }
        }
    }
    return out;
}

/// The operation of `doc` for `method` (lower or upper case) on a concrete `path`: the path
/// template that matches it ({name} matches one non-empty segment) and its operation object.
struct operation {
    std::string path_template;
    const json* object = nullptr;
};
inline auto find_operation(const json& doc, std::string method, std::string_view path) -> std::optional<operation> {
    for (auto& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto split = [](std::string_view p) {
        std::vector<std::string> parts;
        std::size_t from = 1;
        while (from <= p.size()) {
            const auto to = std::min(p.find('/', from), p.size());
            parts.emplace_back(p.substr(from, to - from));
            from = to + 1;
        }
        return parts;
    };
    const auto wanted = split(path);
    for (const auto& [tmpl, item] : doc.at("paths").items()) {
        const auto parts = split(tmpl);
        if (parts.size() != wanted.size()) continue;
        bool match = true;
        for (std::size_t i = 0; i < parts.size() && match; ++i) {
            const bool param = parts[i].size() > 2 && parts[i].front() == '{' && parts[i].back() == '}';
            match = param ? !wanted[i].empty() : parts[i] == wanted[i];
        }
        if (match && item.contains(method)) return operation{tmpl, &item[method]};
    }
    return std::nullopt;
}

/// What is wrong with an answer to `method path`: an operation the document does not have, a
/// status it does not list for it, a content type other than the documented ones, or a JSON
/// body that does not conform to the documented schema. Empty when the answer is as documented.
inline auto answer_errors(const json& doc, const std::string& method, std::string_view path, int status,
                          std::string_view content_type, std::string_view body) -> std::vector<std::string> {
    const auto op = find_operation(doc, method, path);
    if (!op) return {fmt::format("{} {} is not a documented operation", method, path)};
    const auto& responses = op->object->at("responses");
    const auto code = std::to_string(status);
    if (!responses.contains(code)) {
        return {fmt::format("{} {} answered {}, a status the document does not list for {} {}", method, path, status, method,
                            op->path_template)};
    }
    const json* response = &responses[code];
    if (response->contains("$ref")) response = resolve(doc, (*response)["$ref"].get<std::string>());
    if (response == nullptr) return {fmt::format("response {} of {} {} does not resolve", code, method, op->path_template)};
    if (!response->contains("content")) return {};
    const auto& content = response->at("content");
    std::string media;  // the documented media type the answer's Content-Type is
    for (const auto& [type, unused] : content.items()) {
        if (content_type.starts_with(type)) media = type;
    }
    if (media.empty()) {
        return {fmt::format("{} {} answered {} with Content-Type {}, documented: {}", method, path, status, content_type,
                            content.dump())};
    }
    if (media != "application/json") return {};  // text: the media type is all there is to check
    const auto value = json::parse(body, nullptr, false);
    if (value.is_discarded()) return {fmt::format("{} {} answered {} with a body that is not JSON", method, path, status)};
    auto errors = schema_errors(doc, content[media].at("schema"), value);
    for (auto& e : errors) e = fmt::format("{} {} {}: {}", method, path, status, e);
    return errors;
}

}  // namespace allocation::test::openapi

#endif  // ALLOCATION_TESTS_SERVICE_OPENAPI_CHECK_HPP
