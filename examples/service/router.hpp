// allocation-service — routes: which endpoint answers a request, and the answers for requests no
// endpoint takes (404, 405, 415), independent of the server that carries them.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_SERVICE_ROUTER_HPP
#define ALLOCATION_SERVICE_ROUTER_HPP

#include <algorithm>    // min
#include <cstddef>      // size_t
#include <exception>    // exception
#include <functional>   // function
#include <optional>     // optional
#include <string>       // string
#include <string_view>  // string_view
#include <utility>      // move
#include <vector>       // vector

#include <fmt/format.h>

#include "http_message.hpp"
#include "json_api.hpp"  // error_body
#include "log.hpp"

namespace allocation::service {

/// The values a route's `{name}` segments matched, percent-decoded, in order.
using route_params = std::vector<std::string>;

namespace detail {

[[nodiscard]] constexpr auto hex_value(char c) noexcept -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/// `%XX` decoded; none when a `%` is not followed by two hex digits.
[[nodiscard]] inline auto percent_decode(std::string_view s) -> std::optional<std::string> {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out += s[i];
            continue;
        }
        if (i + 2 >= s.size()) return std::nullopt;
        const int hi = hex_value(s[i + 1]);
        const int lo = hex_value(s[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

}  // namespace detail

/// The endpoints of the service by method and path pattern. A pattern is a path whose segments
/// are literal or `{name}` (one non-empty segment, handed to the endpoint percent-decoded):
/// `/allocations/{orderid}`. Adding an endpoint is one line: `r.get("/openapi.json", f)`.
/// Routes are added before the server starts; find() and run() are then thread-safe.
class router {
public:
    using handler = std::function<http_response(const http_request&, const route_params&)>;

    /// Where an endpoint runs: `blocking` ones (the bus, storage) on the server's worker
    /// threads, `immediate` ones (no waiting on anything) on the I/O thread that read them.
    enum class work { blocking, immediate };

    struct route {
        std::string method;
        std::string pattern;
        handler run;
        work kind = work::blocking;
        bool json_body = false;  ///< the body must be declared application/json (else 415)
        std::size_t index = 0;   ///< position among routes(): a label for metrics
    };

    /// A GET endpoint (also answering HEAD).
    void get(std::string pattern, handler h, work kind = work::blocking) {
        add({"GET", std::move(pattern), std::move(h), kind, false, 0});
    }
    /// A POST endpoint whose body must be JSON.
    void post(std::string pattern, handler h, work kind = work::blocking) {
        add({"POST", std::move(pattern), std::move(h), kind, true, 0});
    }
    /// A DELETE endpoint (no body read as JSON).
    void del(std::string pattern, handler h, work kind = work::blocking) {
        add({"DELETE", std::move(pattern), std::move(h), kind, false, 0});
    }
    void add(route r) {
        r.index = routes_.size();
        routes_.push_back(std::move(r));
    }

    [[nodiscard]] auto routes() const noexcept -> const std::vector<route>& { return routes_; }

    /// A request head matched: its route and parameters, or the answer refusing it.
    struct match {
        const route* found = nullptr;
        route_params params;
        std::optional<http_response> refusal;
    };

    /// The route of a request from its head (method, path and header fields; the body is not
    /// read yet): 404 when no pattern matches, 405 (with Allow) when only other methods do,
    /// 415 when a JSON endpoint's body is declared otherwise, 400 for bad percent-encoding.
    [[nodiscard]] auto find(const http_request& head) const -> match {
        match out;
        const std::string_view method = head.method == "HEAD" ? std::string_view("GET") : std::string_view(head.method);
        std::string allowed;
        for (const auto& r : routes_) {
            route_params params;
            bool bad_encoding = false;
            if (!matches(r.pattern, head.path, params, bad_encoding)) continue;
            if (bad_encoding) {
                out.refusal = error(400, "the path has a malformed percent-encoding");
                return out;
            }
            if (r.method != method) {
                if (!allowed.empty()) allowed += ", ";
                allowed += r.method == "GET" ? "GET, HEAD" : r.method;
                continue;
            }
            if (r.json_body && !is_json(head.header("Content-Type"))) {
                const auto* type = head.header("Content-Type");
                out.refusal = error(415, type == nullptr
                                             ? std::string("the body must be declared Content-Type: application/json")
                                             : fmt::format("the body must be application/json, not {:.100}", *type));
                return out;
            }
            out.found = &r;
            out.params = std::move(params);
            return out;
        }
        if (!allowed.empty()) {
            out.refusal = error(405, fmt::format("Method {:.32} not allowed on {:.200}; use {}", head.method, head.path, allowed));
            out.refusal->headers.emplace_back("Allow", allowed);
        } else {
            out.refusal = error(404, fmt::format("Not found: {:.32} {:.200}", head.method, head.path));
        }
        return out;
    }

    /// Runs the endpoint `m` found for `request`; an exception it throws is answered 500.
    [[nodiscard]] static auto run(const match& m, const http_request& request) -> http_response {
        if (m.refusal) return *m.refusal;
        try {
            return m.found->run(request, m.params);
        } catch (const std::exception& e) {
            log("error: {} {} threw: {}", request.method, m.found->pattern, e.what());
        } catch (...) {
            log("error: {} {} threw", request.method, m.found->pattern);
        }
        return error(500, "internal error");
    }

    /// `{"message": ...}` with `status`.
    [[nodiscard]] static auto error(int status, std::string_view message) -> http_response {
        return {status, error_body(message), "application/json", {}};
    }

    /// Whether a Content-Type is application/json, with or without parameters.
    [[nodiscard]] static auto is_json(const std::string* content_type) noexcept -> bool {
        if (content_type == nullptr) return false;
        const std::string_view type = detail::trim(std::string_view(*content_type).substr(0, content_type->find(';')));
        return detail::iequals(type, "application/json");
    }

private:
    /// Whether `path` matches `pattern` segment by segment; the `{name}` segments' values go to
    /// `params` (bad_encoding set when one is not valid percent-encoding).
    static auto matches(std::string_view pattern, std::string_view path, route_params& params, bool& bad_encoding) -> bool {
        if (pattern.empty() || path.empty() || pattern.front() != '/' || path.front() != '/') return false;
        std::size_t pi = 1;
        std::size_t qi = 1;
        for (;;) {
            const auto pe = std::min(pattern.find('/', pi), pattern.size());
            const auto qe = std::min(path.find('/', qi), path.size());
            const auto want = pattern.substr(pi, pe - pi);
            const auto got = path.substr(qi, qe - qi);
            if (want.size() >= 2 && want.front() == '{' && want.back() == '}') {
                if (got.empty()) return false;
                auto decoded = detail::percent_decode(got);
                if (!decoded) {
                    bad_encoding = true;
                    return true;
                }
                params.push_back(std::move(*decoded));
            } else if (want != got) {
                return false;
            }
            const bool pattern_end = pe == pattern.size();
            const bool path_end = qe == path.size();
            if (pattern_end || path_end) return pattern_end && path_end;
            pi = pe + 1;
            qi = qe + 1;
        }
    }

    std::vector<route> routes_;
};

}  // namespace allocation::service

#endif  // ALLOCATION_SERVICE_ROUTER_HPP
