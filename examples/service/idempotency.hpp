// allocation-service — Idempotency-Key: what names a request in the library's inbox (the key as
// the command's message id, a digest of the request as its fingerprint).
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_SERVICE_IDEMPOTENCY_HPP
#define ALLOCATION_SERVICE_IDEMPOTENCY_HPP

#include <cstdint>      // uint64_t
#include <string>       // string
#include <string_view>  // string_view

#include <fmt/format.h>

#include "strict_json.hpp"

namespace allocation::service {

/// The fingerprint of a request: method, path and body, the body normalised when it is a JSON
/// value the API would accept (parse_json_body: so whitespace and key order do not matter),
/// else its bytes. Nothing here recurses on client data: only a value at most max_json_depth
/// deep is serialised again.
[[nodiscard]] inline auto request_fingerprint(std::string_view method, std::string_view path, std::string_view body)
    -> std::string {
    std::string out(method);
    out += ' ';
    out += path;
    out += '\n';
    if (auto j = parse_json_body(body)) {
        out += j.value().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } else {
        out += body;
    }
    return out;
}

/// What the inbox keeps of a fingerprint: its length and two 64-bit FNV-1a hashes, so that a
/// 1 MB body does not make a 1 MB inbox row. Printable text, as the inbox wants.
[[nodiscard]] inline auto fingerprint_digest(std::string_view fingerprint) -> std::string {
    auto fnv = [&](std::uint64_t h) {
        for (const char c : fingerprint) {
            h ^= static_cast<unsigned char>(c);
            h *= 0x100000001b3ULL;
        }
        return h;
    };
    return fmt::format("fnv1a:{}:{:016x}{:016x}", fingerprint.size(), fnv(0xcbf29ce484222325ULL),
                       fnv(0x84222325cbf29ce4ULL));
}

/// An Idempotency-Key request as the library's inbox names it: the key as the message id (in a
/// namespace of its own, apart from other messages' ids), the request's digest as the
/// fingerprint. Both empty without a key.
struct idempotent_request {
    std::string key;
    std::string message_id;
    std::string fingerprint;

    [[nodiscard]] auto keyed() const noexcept -> bool { return !message_id.empty(); }
};

/// The inbox name of a request under Idempotency-Key `key`.
[[nodiscard]] inline auto idempotent(std::string_view key, std::string_view method, std::string_view path,
                                     std::string_view body) -> idempotent_request {
    return {std::string(key), fmt::format("idempotency-key:{}", key),
            fingerprint_digest(request_fingerprint(method, path, body))};
}

}  // namespace allocation::service

#endif  // ALLOCATION_SERVICE_IDEMPOTENCY_HPP
