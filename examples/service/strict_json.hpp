// allocation-service — request bodies decoded as JSON without recursion on client data:
// nesting is limited, duplicate keys are refused, before any value is built past the limit.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_SERVICE_STRICT_JSON_HPP
#define ALLOCATION_SERVICE_STRICT_JSON_HPP

#include <cstddef>        // size_t
#include <string>         // string
#include <string_view>    // string_view
#include <unordered_set>  // unordered_set
#include <vector>         // vector

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "parsed.hpp"

namespace allocation::service {

using json = nlohmann::json;

/// The deepest nesting of arrays and objects a request body may have (`[]` is one level).
inline constexpr std::size_t max_json_depth = 64;

namespace detail {

/// SAX handler that builds the value with nlohmann's own DOM builder and refuses, as soon as
/// it is seen, the 65th level of nesting or a key already present in the same object. The
/// parser driving it is iterative (nlohmann's sax_parse keeps its own stack), so the nesting of
/// the input never reaches the C++ call stack; the value built is at most max_json_depth deep,
/// so what later walks it recursively (dump, comparison, destruction) is bounded.
class strict_json_builder {
public:
    using number_integer_t = json::number_integer_t;
    using number_unsigned_t = json::number_unsigned_t;
    using number_float_t = json::number_float_t;
    using string_t = json::string_t;
    using binary_t = json::binary_t;

    explicit strict_json_builder(json& root) : dom_(root, /*allow_exceptions=*/false) {}

    auto null() -> bool { return dom_.null(); }
    auto boolean(bool v) -> bool { return dom_.boolean(v); }
    auto number_integer(number_integer_t v) -> bool { return dom_.number_integer(v); }
    auto number_unsigned(number_unsigned_t v) -> bool { return dom_.number_unsigned(v); }
    auto number_float(number_float_t v, const string_t& text) -> bool { return dom_.number_float(v, text); }
    auto string(string_t& v) -> bool { return dom_.string(v); }
    auto binary(binary_t& v) -> bool { return dom_.binary(v); }

    auto start_object(std::size_t n) -> bool {
        if (!enter()) return false;
        if (keys_.size() < objects_ + 1) keys_.emplace_back();
        ++objects_;
        return dom_.start_object(n);
    }
    auto key(string_t& k) -> bool {
        if (!keys_[objects_ - 1].insert(k).second) {
            error_ = k.size() <= 64 ? fmt::format("request body has duplicate key {}", json(k).dump(-1, ' ', false, json::error_handler_t::replace))
                                    : fmt::format("request body has a duplicate key of {} bytes", k.size());
            return false;
        }
        return dom_.key(k);
    }
    auto end_object() -> bool {
        keys_[--objects_].clear();
        --depth_;
        return dom_.end_object();
    }
    auto start_array(std::size_t n) -> bool { return enter() && dom_.start_array(n); }
    auto end_array() -> bool {
        --depth_;
        return dom_.end_array();
    }

    template <class Exception>
    auto parse_error(std::size_t /*position*/, const std::string& /*token*/, const Exception& /*e*/) -> bool {
        error_ = "request body is not valid JSON";
        return false;
    }

    /// Why the body was refused; empty when it was not.
    [[nodiscard]] auto error() const noexcept -> const std::string& { return error_; }

private:
    auto enter() -> bool {
        if (++depth_ <= max_json_depth) return true;
        error_ = fmt::format("request body is nested deeper than {} levels", max_json_depth);
        return false;
    }

    nlohmann::detail::json_sax_dom_parser<json> dom_;
    std::vector<std::unordered_set<std::string>> keys_;  // keys seen, per open object
    std::size_t objects_ = 0;                             // open objects
    std::size_t depth_ = 0;                               // open arrays and objects
    std::string error_;
};

}  // namespace detail

/// Decodes a request body as one JSON value (RFC 8259, no comments, nothing after it).
/// Refused with 400 and a message: invalid JSON, nesting deeper than max_json_depth, a key
/// twice in one object. Uses no recursion on the input; linear in its size.
[[nodiscard]] inline auto parse_json_body(std::string_view body) -> parsed<json> {
    json root;
    detail::strict_json_builder builder(root);
    if (!json::sax_parse(body, &builder, json::input_format_t::json, /*strict=*/true, /*ignore_comments=*/false)) {
        return api_error{400, builder.error().empty() ? "request body is not valid JSON" : builder.error()};
    }
    return root;
}

}  // namespace allocation::service

#endif  // ALLOCATION_SERVICE_STRICT_JSON_HPP
