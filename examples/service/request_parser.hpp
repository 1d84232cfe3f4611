// allocation-service — reading an HTTP/1.1 request from bytes, with every limit the service
// keeps: the one parser configuration the server uses, callable without sockets.
// SPDX-License-Identifier: MIT
//
// request_reader turns the bytes of a connection into a request, or into the error status to
// answer (Boost.Beast's basic_parser underneath, strict about framing; bodies are never
// decoded or inflated):
// - header section (request line and fields) over limits.header_bytes, or more than
//   limits.header_lines fields → 431;
// - a control byte (NUL, CR or LF alone, ...) in a field value, a malformed request line or
//   field, Content-Length given twice or not a plain number, Content-Length with chunked,
//   HTTP versions other than 1.0 and 1.1 → 400;
// - a body over limits.body_bytes → 413: at once from Content-Length, as soon as chunks add
//   up to more, or while reading a body that runs to the end of the connection;
// - Content-Encoding other than identity, or a Transfer-Encoding other than chunked → 415
//   (413 first when Content-Length is over the limit);
// - POST, PUT or PATCH with neither Content-Length nor chunked: on a connection the client
//   keeps open → 411 (from accept_header(), so the caller's 404 or 405 comes first); on one it
//   closes after the request (HTTP/1.0, `Connection: close`) the body is what comes before the
//   end of the connection.
// The header is checked before any byte of the body is read, so a refusal costs no body.
//
// parse_request() runs the reader over bytes held in memory: parse_request(bytes) is what the
// server makes of a connection that sent `bytes` (and, with `closed`, then closed its side).
// It is a pure function of its arguments, for tests and fuzzers.
#ifndef ALLOCATION_SERVICE_REQUEST_PARSER_HPP
#define ALLOCATION_SERVICE_REQUEST_PARSER_HPP

#include <cstddef>      // size_t
#include <cstdint>      // uint64_t
#include <optional>     // optional
#include <string>       // string
#include <string_view>  // string_view
#include <utility>      // move

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <fmt/format.h>

#include "http_message.hpp"

namespace allocation::service {

/// What a request may be made of.
struct request_limits {
    std::size_t header_bytes = 16 * 1024;  ///< request line and header fields
    std::size_t header_lines = 100;        ///< header fields
    std::size_t body_bytes = max_body_bytes;
};

/// Why a request is refused: the status to answer and a message for people.
struct request_error {
    int status = 400;
    std::string message;
    friend auto operator==(const request_error&, const request_error&) -> bool = default;
};

namespace detail {

[[nodiscard]] inline auto to_std(boost::beast::string_view s) noexcept -> std::string_view { return {s.data(), s.size()}; }

/// Beast's parser, filling an http_request and counting what Beast lets through.
class beast_request_parser final : public boost::beast::http::basic_parser<true> {
public:
    beast_request_parser(http_request& out, const request_limits& limits) : out_(&out), limits_(&limits) {
        header_limit(static_cast<std::uint32_t>(limits.header_bytes));
        body_limit(static_cast<std::uint64_t>(limits.body_bytes));
        eager(false);  // stop after the header: it is checked before the body is read
    }

    std::optional<request_error> refusal;  ///< set by a callback that failed the parse
    std::size_t content_lengths = 0;

private:
    using error_code = boost::beast::error_code;
    using string_view = boost::beast::string_view;

    void fail(error_code& ec, int status, std::string message) {
        refusal = request_error{status, std::move(message)};
        ec = boost::beast::http::error::bad_value;
    }

    void on_request_impl(boost::beast::http::verb, string_view method, string_view target, int version,
                         error_code& ec) override {
        if (version != 10 && version != 11) {
            return fail(ec, 400, fmt::format("HTTP/{}.{} is not supported; use HTTP/1.1", version / 10, version % 10));
        }
        out_->method.assign(method.data(), method.size());
        out_->target.assign(target.data(), target.size());
        const auto t = to_std(target);
        out_->path = std::string(t.substr(0, t.find('?')));
        out_->version = version;
    }

    void on_response_impl(int, string_view, int, error_code&) override {}

    void on_field_impl(boost::beast::http::field name, string_view name_text, string_view value, error_code& ec) override {
        if (out_->headers.size() >= limits_->header_lines) {
            return fail(ec, 431, fmt::format("more than {} header fields", limits_->header_lines));
        }
        if (name == boost::beast::http::field::content_length) {
            if (++content_lengths > 1) return fail(ec, 400, "Content-Length given more than once");
            const auto v = to_std(value);
            if (v.empty() || v.find_first_not_of("0123456789") != std::string_view::npos) {
                return fail(ec, 400, "Content-Length must be one decimal number");
            }
        }
        out_->headers.emplace_back(std::string(name_text.data(), name_text.size()), std::string(value.data(), value.size()));
    }

    void on_header_impl(error_code&) override {}

    void on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code&) override {
        if (length) out_->body.reserve(static_cast<std::size_t>(*length));
    }

    auto on_body_impl(string_view body, error_code&) -> std::size_t override {
        out_->body.append(body.data(), body.size());
        return body.size();
    }

    void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}

    auto on_chunk_body_impl(std::uint64_t, string_view body, error_code&) -> std::size_t override {
        out_->body.append(body.data(), body.size());
        return body.size();
    }

    void on_finish_impl(error_code&) override {}

    http_request* out_;
    const request_limits* limits_;
};

}  // namespace detail

/// Reads one request from the bytes of a connection as they arrive (see the file comment for
/// what it refuses). Feed it bytes; after the header it stops in state header_done so the
/// caller can look at the head and refuse early; accept_header() goes on to the body. One
/// reader per request. Not thread-safe.
class request_reader {
public:
    enum class state {
        header,       ///< reading the request line and header fields
        header_done,  ///< head complete and valid: call accept_header() (or refuse it)
        body,         ///< reading the body
        done,         ///< request() is complete
        failed,       ///< error() says what to answer; the connection must be closed after it
    };

    explicit request_reader(const request_limits& limits = {}) : limits_(limits), parser_(request_, limits_) {}
    request_reader(const request_reader&) = delete;
    auto operator=(const request_reader&) -> request_reader& = delete;

    /// Feeds `bytes`, which continue what was fed before minus what was consumed; returns how
    /// many of them were consumed. Bytes after a complete request are left for the next one.
    auto feed(std::string_view bytes) -> std::size_t {
        if (state_ == state::header) return feed_header(bytes);
        if (state_ != state::body) return 0;
        if (until_eof_) {
            if (request_.body.size() + bytes.size() > limits_.body_bytes) {
                fail({413, too_large()});
                return 0;
            }
            request_.body.append(bytes);
            return bytes.size();
        }
        // Beast 1.74 asserts when it reads a last chunk again from fewer than 5 bytes (the
        // shortest end of a chunked body, "0\r\n\r\n"): after a put that consumed nothing, wait
        // for 5 bytes; no chunked body can end in fewer.
        if (starved_ && bytes.size() < 5) return 0;
        boost::beast::error_code ec;
        const auto n = parser_.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
        if (ec == boost::beast::http::error::need_more) ec = {};
        starved_ = n == 0 && !ec;
        if (ec) {
            fail_from(ec);
        } else if (parser_.is_done()) {
            state_ = state::done;
        }
        return n;
    }

    /// The client closed its side: a body running to the end of the connection is complete;
    /// otherwise a request begun is refused (400), and none begun leaves the state as it is.
    void finish() {
        if (state_ == state::body && until_eof_) {
            state_ = state::done;
        } else if (state_ == state::body || (state_ == state::header && started_)) {
            fail({400, "the connection was closed before the request was complete"});
        }
    }

    /// Goes on from header_done to the body (done at once when there is none), or fails with 411
    /// when the body of a POST, PUT or PATCH on a kept-alive connection has no length.
    void accept_header() {
        if (state_ != state::header_done) return;
        if (length_required_) {
            fail({411, "a request body needs a Content-Length or Transfer-Encoding: chunked"});
        } else if (until_eof_) {
            state_ = state::body;
        } else if (parser_.is_done()) {
            state_ = state::done;
        } else {
            parser_.eager(true);
            state_ = state::body;
        }
    }

    /// Marks bytes of the request as seen (a connection that sent nothing is merely idle).
    void started() noexcept { started_ = true; }

    [[nodiscard]] auto current() const noexcept -> state { return state_; }
    /// The request: its head from header_done on, all of it once done.
    [[nodiscard]] auto request() noexcept -> http_request& { return request_; }
    [[nodiscard]] auto error() const noexcept -> const request_error& { return error_; }
    /// Whether the client waits for `100 Continue` before it sends the body.
    [[nodiscard]] auto expects_continue() const noexcept -> bool {
        const auto* expect = request_.header("Expect");
        return state_ == state::header_done && (until_eof_ || !parser_.is_done()) && expect != nullptr &&
               detail::iequals(detail::trim(*expect), "100-continue");
    }
    /// Whether body bytes remain unread after the head (from header_done on).
    [[nodiscard]] auto body_pending() const noexcept -> bool {
        return state_ == state::body || (state_ == state::header_done && (until_eof_ || length_required_ || !parser_.is_done()));
    }
    /// Whether the connection may carry another request after this one.
    [[nodiscard]] auto keep_alive() const noexcept -> bool { return !until_eof_ && parser_.keep_alive(); }

private:
    [[nodiscard]] auto too_large() const -> std::string {
        return fmt::format("request body larger than {} bytes", limits_.body_bytes);
    }

    void fail(request_error e) {
        error_ = std::move(e);
        state_ = state::failed;
    }

    void fail_from(const boost::beast::error_code& ec) {
        namespace http = boost::beast::http;
        if (parser_.refusal) return fail(std::move(*parser_.refusal));
        if (ec == http::error::header_limit) {
            return fail({431, fmt::format("header section larger than {} bytes", limits_.header_bytes)});
        }
        if (ec == http::error::body_limit) return fail({413, too_large()});
        if (ec == http::error::bad_content_length) return fail({400, "Content-Length is not valid"});
        if (ec == http::error::bad_transfer_encoding) return fail({400, "Transfer-Encoding is not valid"});
        fail({400, fmt::format("malformed request: {}", ec.message())});
    }

    auto feed_header(std::string_view bytes) -> std::size_t {
        if (!bytes.empty()) started_ = true;
        // Beast applies its header limit to each put() alone, and afresh to the fields once it
        // has consumed the start line: so it is shown no more than what is left of the section's
        // limit, with that as its limit, and a section that does not end within it is refused.
        const auto left = limits_.header_bytes - header_consumed_;
        if (left == 0) {
            fail_from(boost::beast::http::error::header_limit);
            return 0;
        }
        bytes = bytes.substr(0, left);
        parser_.header_limit(static_cast<std::uint32_t>(left));
        boost::beast::error_code ec;
        const auto n = parser_.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
        header_consumed_ += n;
        if (ec == boost::beast::http::error::need_more && bytes.size() == left) {
            fail_from(boost::beast::http::error::header_limit);  // all it may have, and unfinished
            return n;
        }
        if (ec == boost::beast::http::error::need_more) return n;
        if (ec) {
            fail_from(ec);
            return n;
        }
        if (parser_.is_header_done()) check_header();
        return n;
    }

    void check_header() {
        if (const auto* te = request_.header("Transfer-Encoding"); te != nullptr && !detail::iequals(detail::trim(*te), "chunked")) {
            return fail({415, fmt::format("Transfer-Encoding {} is not accepted; send the body uncompressed, chunked or not", *te)});
        }
        if (const auto* ce = request_.header("Content-Encoding"); ce != nullptr && !detail::iequals(detail::trim(*ce), "identity")) {
            return fail({415, fmt::format("Content-Encoding {} is not accepted; send the body uncompressed", *ce)});
        }
        const bool framed = parser_.content_length().has_value() || parser_.chunked();
        const auto& m = request_.method;
        if (!framed && (m == "POST" || m == "PUT" || m == "PATCH")) {
            if (parser_.keep_alive()) {
                length_required_ = true;  // refused by accept_header(), after the caller's own checks
            } else {
                until_eof_ = true;  // the body runs to the end of the connection
            }
        }
        state_ = state::header_done;
    }

    request_limits limits_;
    http_request request_;
    detail::beast_request_parser parser_;
    state state_ = state::header;
    bool until_eof_ = false;
    bool starved_ = false;  // the last put() of the body consumed nothing
    bool length_required_ = false;
    bool started_ = false;
    std::size_t header_consumed_ = 0;  ///< header bytes the parser has consumed so far
    request_error error_;
};

/// What parse_request() made of its input.
struct parsed_request {
    std::optional<http_request> request;  ///< the first request, when complete and accepted
    std::optional<request_error> error;   ///< why it is refused; neither: the input is incomplete
    std::size_t consumed = 0;             ///< bytes of the input it used; the next request starts there
};

/// Reads the first request of `input` with the server's parser and `limits`; `closed`: the input
/// ends where the client closed the connection. Pure: no I/O, no state, no exception.
[[nodiscard]] inline auto parse_request(std::string_view input, const request_limits& limits = {}, bool closed = true)
    -> parsed_request {
    request_reader reader(limits);
    parsed_request out;
    auto feed = [&] {
        const auto n = reader.feed(input.substr(out.consumed));
        out.consumed += n;
        return n;
    };
    feed();
    if (reader.current() == request_reader::state::header_done) {
        reader.accept_header();
        while (reader.current() == request_reader::state::body && out.consumed < input.size() && feed() > 0) {
        }
    }
    if (closed) reader.finish();
    if (reader.current() == request_reader::state::done) out.request = std::move(reader.request());
    if (reader.current() == request_reader::state::failed) out.error = reader.error();
    return out;
}

}  // namespace allocation::service

#endif  // ALLOCATION_SERVICE_REQUEST_PARSER_HPP
