// allocation-service tests — an HTTP/1.1 client on a plain socket: well-formed requests for the
// end-to-end tests, and any bytes at all for the tests that attack the server's framing.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_TESTS_SERVICE_HTTP_CLIENT_HPP
#define ALLOCATION_TESTS_SERVICE_HTTP_CLIENT_HPP

#include <netinet/in.h>   // sockaddr_in
#include <netinet/tcp.h>  // TCP_NODELAY
#include <poll.h>         // poll
#include <sys/socket.h>   // socket, connect, send, recv, shutdown
#include <unistd.h>       // close

#include <algorithm>    // equal
#include <cctype>       // tolower
#include <cerrno>       // errno
#include <cstdint>      // uint16_t
#include <chrono>       // steady_clock, milliseconds
#include <cstddef>      // size_t
#include <optional>     // optional
#include <stdexcept>    // runtime_error
#include <string>       // string
#include <string_view>  // string_view
#include <utility>      // pair, exchange
#include <vector>       // vector

namespace allocation::test {

/// An HTTP answer as received.
struct http_answer {
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;

    /// The first value of header `name` (any case), or "".
    [[nodiscard]] auto header(std::string_view name) const -> std::string {
        for (const auto& [n, v] : headers) {
            if (n.size() == name.size() && std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
                    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
                })) {
                return v;
            }
        }
        return "";
    }
};

/// One TCP connection to 127.0.0.1:port that sends raw bytes and reads answers.
class raw_connection {
public:
    explicit raw_connection(int port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fd_ < 0) throw std::runtime_error("socket failed");
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = htons(static_cast<std::uint16_t>(port));
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            ::close(fd_);
            throw std::runtime_error("connect failed");
        }
        const int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    raw_connection(raw_connection&& o) noexcept : fd_(std::exchange(o.fd_, -1)), in_(std::move(o.in_)) {}
    raw_connection(const raw_connection&) = delete;
    auto operator=(const raw_connection&) -> raw_connection& = delete;
    auto operator=(raw_connection&&) -> raw_connection& = delete;
    ~raw_connection() {
        if (fd_ >= 0) ::close(fd_);
    }

    /// Sends every byte; false when the connection refused them (closed or reset).
    auto send(std::string_view bytes) -> bool {
        while (!bytes.empty()) {
            const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }

    /// Closes the sending side (the server reads end of file).
    void shutdown_send() { ::shutdown(fd_, SHUT_WR); }

    /// Reads one answer (its body framed by Content-Length; none for the answer to a HEAD);
    /// none when the connection closed first or after `timeout`.
    auto read_answer(std::chrono::milliseconds timeout = std::chrono::seconds(10), bool to_head = false)
        -> std::optional<http_answer> {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            if (auto a = take_answer(to_head)) return a;
            if (!fill(deadline)) return std::nullopt;
        }
    }

    /// Whether the server closes the connection (end of file or reset) within `timeout`; bytes
    /// it sends meanwhile are kept for read_answer().
    auto closed_within(std::chrono::milliseconds timeout) -> bool {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!eof_ && std::chrono::steady_clock::now() < deadline) (void)fill(deadline);
        return eof_;
    }

    [[nodiscard]] auto eof() const noexcept -> bool { return eof_; }

private:
    /// Reads what arrives before `deadline`; false at end of file, on an error or at the deadline.
    auto fill(std::chrono::steady_clock::time_point deadline) -> bool {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd pfd{fd_, POLLIN, 0};
        const int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
        if (ready <= 0) return ready < 0 && errno == EINTR;
        char chunk[16384];
        const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n <= 0) {
            eof_ = true;
            return false;
        }
        in_.append(chunk, static_cast<std::size_t>(n));
        return true;
    }

    auto take_answer(bool to_head) -> std::optional<http_answer> {
        const auto end = in_.find("\r\n\r\n");
        if (end == std::string::npos) return std::nullopt;
        http_answer a;
        std::string_view head(in_.data(), end);
        const auto first_nl = head.find("\r\n");
        const auto status_line = head.substr(0, first_nl);
        const auto sp = status_line.find(' ');
        if (sp == std::string_view::npos) throw std::runtime_error("bad status line");
        a.status = std::stoi(std::string(status_line.substr(sp + 1, 3)));
        std::size_t length = 0;
        auto rest = first_nl == std::string_view::npos ? std::string_view{} : head.substr(first_nl + 2);
        while (!rest.empty()) {
            const auto nl = rest.find("\r\n");
            const auto line = rest.substr(0, nl);
            rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 2);
            const auto colon = line.find(':');
            if (colon == std::string_view::npos) continue;
            auto value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
            a.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
        }
        if (const auto cl = a.header("Content-Length"); !cl.empty() && !to_head) length = std::stoul(cl);
        if (a.status == 100) {  // interim answer: no body
            in_.erase(0, end + 4);
            return take_answer(to_head);
        }
        if (in_.size() < end + 4 + length) return std::nullopt;
        a.body = in_.substr(end + 4, length);
        in_.erase(0, end + 4 + length);
        return a;
    }

    int fd_ = -1;
    std::string in_;
    bool eof_ = false;
};

/// A keep-alive HTTP/1.1 client of 127.0.0.1:port that reconnects when the server closed.
class http_client {
public:
    using header_list = std::vector<std::pair<std::string, std::string>>;

    explicit http_client(int port) : port_(port) {}

    /// Sends a request; the answer, or none when no answer came.
    auto request(const std::string& method, const std::string& path, const std::string& body = {},
                 const header_list& headers = {}, std::chrono::milliseconds timeout = std::chrono::seconds(30))
        -> std::optional<http_answer> {
        std::string out = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
        for (const auto& [n, v] : headers) out += n + ": " + v + "\r\n";
        if (!body.empty() || method == "POST") out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
        out += "\r\n";
        out += body;
        for (int attempt = 0; attempt < 2; ++attempt) {
            const bool reused = connection_.has_value();
            if (!reused) connection_.emplace(port_);
            const bool sent = connection_->send(out);
            if (sent) {
                if (auto a = connection_->read_answer(timeout)) {
                    if (a->header("Connection") == "close") connection_.reset();
                    return a;
                }
            }
            // A kept-alive connection the server had closed: once more on a new one.
            const bool retry = reused && (!sent || connection_->eof());
            connection_.reset();
            if (!retry) return std::nullopt;
        }
        return std::nullopt;
    }

    auto post(const std::string& path, const std::string& body, header_list headers = {}) -> std::optional<http_answer> {
        headers.emplace_back("Content-Type", "application/json");
        return request("POST", path, body, headers);
    }
    auto get(const std::string& path) -> std::optional<http_answer> { return request("GET", path); }

private:
    int port_;
    std::optional<raw_connection> connection_;
};

}  // namespace allocation::test

#endif  // ALLOCATION_TESTS_SERVICE_HTTP_CLIENT_HPP
