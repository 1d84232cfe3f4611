// allocation-service — an HTTP request and its answer as the endpoints see them, independent of
// the server that reads and writes them.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_SERVICE_HTTP_MESSAGE_HPP
#define ALLOCATION_SERVICE_HTTP_MESSAGE_HPP

#include <cstddef>      // size_t
#include <string>       // string
#include <string_view>  // string_view
#include <utility>      // pair, move
#include <vector>       // vector

namespace allocation::service {

/// The largest request body accepted; a larger one is answered 413.
inline constexpr std::size_t max_body_bytes = 1024 * 1024;

/// Header fields in the order received (names as sent), looked up without regard to case.
using header_list = std::vector<std::pair<std::string, std::string>>;

namespace detail {

[[nodiscard]] constexpr auto ascii_lower(char c) noexcept -> char {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

[[nodiscard]] constexpr auto iequals(std::string_view a, std::string_view b) noexcept -> bool {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    }
    return true;
}

[[nodiscard]] constexpr auto trim(std::string_view s) noexcept -> std::string_view {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

}  // namespace detail

/// The first value of header `name` (any case) in `headers`, or null.
[[nodiscard]] inline auto find_header(const header_list& headers, std::string_view name) noexcept -> const std::string* {
    for (const auto& [n, v] : headers) {
        if (detail::iequals(n, name)) return &v;
    }
    return nullptr;
}

/// A request read in full: method and target as sent, the path (the target without its query,
/// still percent-encoded), the header fields and the body.
struct http_request {
    std::string method;
    std::string target;
    std::string path;
    header_list headers;
    std::string body;
    int version = 11;  ///< 10 for HTTP/1.0, 11 for HTTP/1.1

    [[nodiscard]] auto header(std::string_view name) const noexcept -> const std::string* {
        return find_header(headers, name);
    }
};

/// An answer: status, body, its media type and any further header fields.
struct http_response {
    int status = 200;
    std::string body;
    std::string content_type = "application/json";
    header_list headers;
};

}  // namespace allocation::service

#endif  // ALLOCATION_SERVICE_HTTP_MESSAGE_HPP
