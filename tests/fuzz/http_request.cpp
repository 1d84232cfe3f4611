// allocation fuzzing — HTTP/1.1 framing: the example service's request parser (the one the
// server uses, with its limits) on any bytes, whole or arriving in two parts, never crashes,
// answers every refusal with one of the statuses it documents, and accepts only requests within
// the limits; a request whose header section is within the limit is read the same when its
// bytes arrive in two parts.
// SPDX-License-Identifier: MIT
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "fuzz/input.hpp"
#include "request_parser.hpp"

using namespace allocation::service;

namespace {

void require(bool holds, int line, std::size_t size) {
    if (holds) return;
    std::fprintf(stderr, "http_request.cpp:%d: property failed (input of %zu bytes)\n", line, size);
    std::abort();
}

/// What the reader makes of `input` when its first `split` bytes arrive, then the rest; the
/// driving loop is parse_request's, run once per arrival.
auto parse_in_two(std::string_view input, std::size_t split, const request_limits& limits, bool closed) -> parsed_request {
    request_reader reader(limits);
    parsed_request out;
    using state = request_reader::state;
    for (const auto end : {split, input.size()}) {
        for (;;) {
            if (reader.current() == state::header_done) reader.accept_header();
            if (reader.current() != state::header && reader.current() != state::body) break;
            if (out.consumed >= end && reader.current() == state::body) break;
            const auto n = reader.feed(input.substr(out.consumed, end - out.consumed));
            out.consumed += n;
            if (n == 0 && reader.current() != state::header_done) break;
        }
    }
    if (closed) reader.finish();
    if (reader.current() == state::done) out.request = std::move(reader.request());
    if (reader.current() == state::failed) out.error = reader.error();
    return out;
}

auto has_control_byte(std::string_view value) -> bool {
    for (const char c : value) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u == 0x7F) return true;
    }
    return false;
}

}  // namespace

extern "C" auto LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) -> int {
    allocation::fuzz::byte_reader options(std::span(data, size < 2 ? size : 2));
    const bool closed = options.flag();
    const bool small = options.flag();  // small limits reach every refusal with short inputs
    const std::string_view input(reinterpret_cast<const char*>(data) + (size < 2 ? size : 2), size < 2 ? 0 : size - 2);
    request_limits limits;
    if (small) limits = {.header_bytes = 256, .header_lines = 4, .body_bytes = 64};

    const auto whole = parse_request(input, limits, closed);
    require(whole.consumed <= input.size(), __LINE__, size);
    require(!(whole.request && whole.error), __LINE__, size);
    if (whole.error) {
        const int s = whole.error->status;
        require(s == 400 || s == 411 || s == 413 || s == 415 || s == 431, __LINE__, size);
        require(!whole.error->message.empty(), __LINE__, size);
    }
    if (whole.request) {
        const auto& r = *whole.request;
        require(!r.method.empty() && !r.target.empty(), __LINE__, size);
        require(r.version == 10 || r.version == 11, __LINE__, size);
        require(r.body.size() <= limits.body_bytes, __LINE__, size);
        require(r.headers.size() <= limits.header_lines, __LINE__, size);
        require(r.path.find('?') == std::string::npos && r.target.starts_with(r.path), __LINE__, size);
        std::size_t lengths = 0;
        for (const auto& [name, value] : r.headers) {
            require(!name.empty() && !has_control_byte(name) && !has_control_byte(value), __LINE__, size);
            if (detail::iequals(name, "Content-Length")) {
                ++lengths;
                const auto digits = detail::trim(value);
                std::size_t n = 0;
                const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
                require(ec == std::errc{} && end == digits.data() + digits.size() && n == r.body.size(), __LINE__, size);
            }
            if (detail::iequals(name, "Content-Encoding")) require(detail::iequals(detail::trim(value), "identity"), __LINE__, size);
        }
        require(lengths <= 1, __LINE__, size);
    }

    // The same bytes in two parts, split where the input says, when the header section ends
    // within the limit: a request is read the same, and what is refused at once is refused in
    // two parts too. (Beast reads the start line and fields of a first part at once, but once it
    // has asked for more it waits for the end of the section, scanning for it from where it
    // stopped, and it applies the header limit to each call: a section over the limit may fare
    // otherwise in two parts, and a malformed one may be refused later, for another reason (431
    // instead of 400), or only when the client closes.)
    const auto header_end = input.find("\r\n\r\n");
    if (header_end == std::string_view::npos || header_end + 4 > limits.header_bytes) return 0;
    const std::size_t split = (static_cast<std::size_t>(data[0]) * 257 + data[size - 1]) % (input.size() + 1);
    const auto parts = parse_in_two(input, split, limits, closed);
    require(parts.request.has_value() == whole.request.has_value(), __LINE__, size);
    if (closed) require(parts.error.has_value() == whole.error.has_value(), __LINE__, size);
    if (parts.error) {
        const int s = parts.error->status;
        require(s == 400 || s == 411 || s == 413 || s == 415 || s == 431, __LINE__, size);
    }
    if (whole.request) {
        require(parts.consumed == whole.consumed, __LINE__, size);
        require(parts.request->method == whole.request->method && parts.request->target == whole.request->target, __LINE__, size);
        require(parts.request->headers == whole.request->headers && parts.request->body == whole.request->body, __LINE__, size);
    }
    return 0;
}
