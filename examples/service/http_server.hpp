// allocation-service — the HTTP/1.1 server on Boost.Asio: accept loop, connections, deadlines,
// a bound on requests in flight, graceful shutdown. What a request means is the router's.
// SPDX-License-Identifier: MIT
//
// A few I/O threads (each with an io_context of its own, connections spread over them) read
// and write every connection without blocking; a connection that is idle, slow or stalled holds
// no thread, only its socket and buffer. A request read in full goes to the router: endpoints
// marked `immediate` run on the I/O thread, the others (the bus, storage) on a pool of worker
// threads, and the answer comes back to the I/O thread to be written. A connection carries one
// request at a time: requests pipelined behind it wait in its buffer and are answered in order.
//
// Deadlines, checked by each I/O thread every 100 ms: the header section within
// header_timeout of the request's first byte (of the connection's opening for its first
// request), the body within body_timeout of the header, the answer written within
// write_timeout; a kept-alive connection that sends nothing for idle_timeout is closed. A
// connection past its deadline is closed without an answer. More than max_in_flight requests
// at the router at once: the next is answered 503. Any refusal of the request reader
// (request_parser.hpp) or router before the body is read is answered, then the connection is
// closed (what the client still sends is discarded for a moment, so the answer reaches it).
//
// stop(): no new connection; connections waiting for a request or in the middle of one are
// closed; those whose request is at the router get its answer (with `Connection: close`); after
// shutdown_grace every connection left is closed.
#ifndef ALLOCATION_SERVICE_HTTP_SERVER_HPP
#define ALLOCATION_SERVICE_HTTP_SERVER_HPP

#include <algorithm>           // max
#include <atomic>              // atomic
#include <chrono>              // steady_clock, milliseconds
#include <condition_variable>  // condition_variable
#include <cstddef>             // size_t
#include <cstdint>             // uint16_t
#include <deque>               // deque
#include <functional>          // function
#include <list>                // list
#include <memory>              // shared_ptr, unique_ptr
#include <mutex>               // mutex
#include <optional>            // optional
#include <string>              // string
#include <string_view>         // string_view
#include <thread>              // thread
#include <utility>             // move
#include <vector>              // vector

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/status.hpp>
#include <fmt/format.h>

#include "http_message.hpp"
#include "request_parser.hpp"
#include "router.hpp"

namespace allocation::service {

/// How the server listens, its threads, limits and deadlines.
struct server_options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;  ///< 0: any free port
    std::size_t io_threads = 1;
    std::size_t workers = 64;  ///< threads running the blocking endpoints
    std::size_t max_in_flight = 1024;
    request_limits limits{};
    std::chrono::milliseconds header_timeout{10'000};
    std::chrono::milliseconds body_timeout{30'000};
    std::chrono::milliseconds idle_timeout{60'000};
    std::chrono::milliseconds write_timeout{30'000};
    std::chrono::milliseconds shutdown_grace{5'000};
};

/// One answer as the server sent it, for the log and metrics.
struct answer_record {
    std::string_view remote;  ///< the client's address
    std::string_view method;  ///< empty when the request line could not be read
    std::string_view path;
    int status = 0;
    std::size_t body_bytes = 0;
    std::size_t route = static_cast<std::size_t>(-1);  ///< index among the router's routes; -1: none
    std::chrono::nanoseconds took{};                   ///< from the request read to its answer
};

namespace detail {

/// Threads running tasks in the order posted.
class worker_pool {
public:
    explicit worker_pool(std::size_t threads) {
        for (std::size_t i = 0; i < std::max<std::size_t>(threads, 1); ++i) threads_.emplace_back([this] { run(); });
    }
    worker_pool(const worker_pool&) = delete;
    auto operator=(const worker_pool&) -> worker_pool& = delete;
    ~worker_pool() { stop(); }

    void post(std::function<void()> task) {
        {
            const std::lock_guard lock(mutex_);
            tasks_.push_back(std::move(task));
        }
        wake_.notify_one();
    }

    /// Runs what is queued, then joins the threads. Idempotent.
    void stop() {
        {
            const std::lock_guard lock(mutex_);
            stop_ = true;
        }
        wake_.notify_all();
        for (auto& t : threads_) {
            if (t.joinable()) t.join();
        }
    }

private:
    void run() {
        std::unique_lock lock(mutex_);
        for (;;) {
            wake_.wait(lock, [&] { return stop_ || !tasks_.empty(); });
            if (tasks_.empty()) return;
            auto task = std::move(tasks_.front());
            tasks_.pop_front();
            lock.unlock();
            task();
            lock.lock();
        }
    }

    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::function<void()>> tasks_;
    bool stop_ = false;
    std::vector<std::thread> threads_;
};

class connection;

/// One I/O thread: its io_context and the connections it serves.
struct io_shard {
    boost::asio::io_context io{1};
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work = boost::asio::make_work_guard(io);
    boost::asio::steady_timer sweep{io};
    std::list<std::shared_ptr<connection>> connections;
    std::thread thread;
};

[[nodiscard]] inline auto status_line(int status) -> std::string_view {
    const auto reason = boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status));
    return {reason.data(), reason.size()};
}

}  // namespace detail

/// The HTTP server of a router; see the file comment. listen(), then start(), then stop().
class http_server {
public:
    using answer_observer = std::function<void(const answer_record&)>;

    /// `routes` and `observer` (called on an I/O thread for every answer) must outlive this.
    http_server(const router& routes, server_options options, answer_observer observer = {})
        : routes_(&routes), options_(std::move(options)), observer_(std::move(observer)) {
        for (std::size_t i = 0; i < std::max<std::size_t>(options_.io_threads, 1); ++i) {
            shards_.push_back(std::make_unique<detail::io_shard>());
        }
        acceptor_.emplace(shards_.front()->io);
    }
    http_server(const http_server&) = delete;
    auto operator=(const http_server&) -> http_server& = delete;
    ~http_server() { stop(); }

    /// Binds and listens; the port (the one chosen when options.port is 0), or 0 with `error` set.
    auto listen(std::string& error) -> std::uint16_t {
        namespace ip = boost::asio::ip;
        boost::system::error_code ec;
        const auto address = ip::make_address(options_.host, ec);
        if (ec) {
            error = fmt::format("{} is not an IP address", options_.host);
            return 0;
        }
        const ip::tcp::endpoint endpoint(address, options_.port);
        auto fail = [&](const char* what) -> std::uint16_t {
            error = fmt::format("{}: {}", what, ec.message());
            return 0;
        };
        if (acceptor_->open(endpoint.protocol(), ec)) return fail("socket");
        if (acceptor_->set_option(boost::asio::socket_base::reuse_address(true), ec)) return fail("SO_REUSEADDR");
        if (acceptor_->bind(endpoint, ec)) return fail("bind");
        if (acceptor_->listen(boost::asio::socket_base::max_listen_connections, ec)) return fail("listen");
        port_ = acceptor_->local_endpoint(ec).port();
        return port_;
    }

    /// Starts the worker and I/O threads; returns at once.
    void start() {
        workers_ = std::make_unique<detail::worker_pool>(options_.workers);
        boost::asio::post(shards_.front()->io, [this] { accept(); });
        for (auto& s : shards_) {
            sweep(*s);
            s->thread = std::thread([&io = s->io] { io.run(); });
        }
    }

    /// Stops gracefully (see the file comment) and joins every thread. Idempotent.
    void stop() {
        if (stopped_.exchange(true)) return;
        stopping_ = true;
        if (shards_.front()->thread.joinable()) {
            boost::asio::post(shards_.front()->io, [this] {
                boost::system::error_code ec;
                acceptor_->close(ec);
            });
            for (auto& s : shards_) boost::asio::post(s->io, [&shard = *s] { close_idle(shard); });
            const auto deadline = std::chrono::steady_clock::now() + options_.shutdown_grace;
            while (connections_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
            for (auto& s : shards_) boost::asio::post(s->io, [&shard = *s] { close_all(shard); });
        }
        if (workers_) workers_->stop();
        for (auto& s : shards_) {
            s->work.reset();
            s->io.stop();
            if (s->thread.joinable()) s->thread.join();
        }
    }

    [[nodiscard]] auto port() const noexcept -> std::uint16_t { return port_; }
    /// Requests at the router (read in full, not answered yet).
    [[nodiscard]] auto in_flight() const noexcept -> std::size_t { return in_flight_.load(); }
    /// Open connections.
    [[nodiscard]] auto connections() const noexcept -> std::size_t { return connections_.load(); }

private:
    friend class detail::connection;

    void accept() {
        auto& shard = *shards_[next_shard_++ % shards_.size()];
        acceptor_->async_accept(shard.io, [this, &shard](boost::system::error_code ec, boost::asio::ip::tcp::socket socket) {
            if (stopping_ || !acceptor_->is_open()) return;
            if (ec) {
                // Out of descriptors or memory: wait a moment instead of spinning.
                log("http: accept failed: {}", ec.message());
                auto timer = std::make_shared<boost::asio::steady_timer>(shards_.front()->io, std::chrono::milliseconds(100));
                timer->async_wait([this, timer](boost::system::error_code) { accept(); });
                return;
            }
            boost::asio::post(shard.io, [this, &shard, s = std::move(socket)]() mutable { open(shard, std::move(s)); });
            accept();
        });
    }

    void open(detail::io_shard& shard, boost::asio::ip::tcp::socket socket);
    void sweep(detail::io_shard& shard);
    static void close_idle(detail::io_shard& shard);
    static void close_all(detail::io_shard& shard);

    const router* routes_;
    server_options options_;
    answer_observer observer_;
    std::vector<std::unique_ptr<detail::io_shard>> shards_;
    std::optional<boost::asio::ip::tcp::acceptor> acceptor_;
    std::unique_ptr<detail::worker_pool> workers_;
    std::size_t next_shard_ = 0;
    std::uint16_t port_ = 0;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> stopped_{false};
    std::atomic<std::size_t> in_flight_{0};
    std::atomic<std::size_t> connections_{0};
};

namespace detail {

/// One client connection; every member function runs on its shard's I/O thread.
class connection : public std::enable_shared_from_this<connection> {
public:
    using clock = std::chrono::steady_clock;

    connection(http_server& server, io_shard& shard, boost::asio::ip::tcp::socket socket)
        : server_(&server), shard_(&shard), socket_(std::move(socket)) {}

    void start(std::list<std::shared_ptr<connection>>::iterator self) {
        self_ = self;
        boost::system::error_code ec;
        socket_.set_option(boost::asio::ip::tcp::no_delay(true), ec);
        const auto peer = socket_.remote_endpoint(ec);
        remote_ = ec ? std::string("?") : peer.address().to_string();
        begin_request(true);
        read();
    }

    /// Closes the connection if it is past its deadline.
    void check(clock::time_point now) {
        if (phase_ != phase::at_router && now > deadline_) close();
    }

    /// Closes the connection unless it has a request at the router or an answer being written
    /// (those close after the answer).
    void close_if_idle() {
        if (phase_ == phase::at_router || phase_ == phase::writing) return;
        close();
    }

    void close() {
        if (closed_) return;
        closed_ = true;
        boost::system::error_code ec;
        socket_.close(ec);
        server_->connections_.fetch_sub(1);
        auto keep = shared_from_this();  // the list holds the last reference, maybe
        shard_->connections.erase(self_);
    }

private:
    enum class phase { idle, header, body, at_router, writing, lingering };

    [[nodiscard]] auto options() const noexcept -> const server_options& { return server_->options_; }

    void set_deadline(std::chrono::milliseconds d) { deadline_ = clock::now() + d; }

    /// Ready for the next request: the header deadline runs from now when this is the
    /// connection's first request or bytes of the next one are already buffered.
    void begin_request(bool first) {
        reader_.emplace(options().limits);
        match_ = {};
        if (first || buffer_.size() > 0) {
            phase_ = phase::header;
            set_deadline(options().header_timeout);
        } else {
            phase_ = phase::idle;
            set_deadline(options().idle_timeout);
        }
    }

    void read() {
        if (closed_) return;
        socket_.async_read_some(buffer_.prepare(16 * 1024), [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
            self->on_read(ec, n);
        });
    }

    void on_read(boost::system::error_code ec, std::size_t n) {
        if (closed_) return;
        if (phase_ == phase::lingering) {
            buffer_.consume(buffer_.size());
            if (ec) return close();
            buffer_.commit(n);
            buffer_.consume(n);
            return read();
        }
        if (ec) {
            reader_->finish();  // the client closed its side, or the connection broke
            eof_ = true;
            if (ec != boost::asio::error::eof) return close();
            return process();
        }
        buffer_.commit(n);
        if (phase_ == phase::idle && n > 0) {
            phase_ = phase::header;
            set_deadline(options().header_timeout);
        }
        process();
    }

    /// Feeds the buffer to the reader and acts on its state.
    void process() {
        using state = request_reader::state;
        for (;;) {
            const auto data = buffer_.data();
            const auto n = reader_->feed({static_cast<const char*>(data.data()), data.size()});
            buffer_.consume(n);
            switch (reader_->current()) {
                case state::header:
                case state::body:
                    if (eof_) return close();
                    return read();
                case state::header_done:
                    if (!on_header()) return;
                    continue;
                case state::done: return dispatch();
                case state::failed: {
                    const auto& e = reader_->error();
                    return answer(router::error(e.status, e.message), true);
                }
            }
        }
    }

    /// The head of a request is read: finds its route or refuses it. False when processing
    /// stops here: the request was answered, or `100 Continue` is being written (processing
    /// goes on once it is).
    auto on_header() -> bool {
        match_ = server_->routes_->find(reader_->request());
        if (match_.refusal) {
            answer(std::move(*match_.refusal), reader_->body_pending());  // the body is not read
            return false;
        }
        const bool expects_continue = reader_->expects_continue();
        reader_->accept_header();
        if (reader_->current() == request_reader::state::failed) return true;  // 411: process() answers
        phase_ = phase::body;
        set_deadline(options().body_timeout);
        if (expects_continue && !eof_) {
            static constexpr std::string_view interim = "HTTP/1.1 100 Continue\r\n\r\n";
            boost::asio::async_write(socket_, boost::asio::buffer(interim.data(), interim.size()),
                                     [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                                         if (self->closed_) return;
                                         if (ec) return self->close();
                                         self->process();
                                     });
            return false;
        }
        return true;
    }

    void dispatch() {
        phase_ = phase::at_router;
        started_ = clock::now();
        if (server_->in_flight_.load() >= options().max_in_flight) {
            return answer(router::error(503, "the service is busy, retry the request"), false);
        }
        if (match_.found->kind == router::work::immediate) return answer(router::run(match_, reader_->request()), false);
        server_->in_flight_.fetch_add(1);
        server_->workers_->post([self = shared_from_this()] {
            auto response = router::run(self->match_, self->reader_->request());
            auto& io = self->shard_->io;
            boost::asio::post(io, [self = std::move(self), r = std::move(response)]() mutable {
                self->server_->in_flight_.fetch_sub(1);
                self->answer(std::move(r), false);
            });
        });
    }

    /// Writes `response`; then closes when `close_after` (the request was refused before its
    /// body was read, or could not be read), the client asked to, or the server is stopping.
    void answer(http_response response, bool close_after) {
        if (closed_) return;
        if (phase_ != phase::at_router) started_ = clock::now();
        const auto& req = reader_->request();
        keep_alive_ = !close_after && !eof_ && reader_->keep_alive() && !server_->stopping_;
        const bool head = req.method == "HEAD";
        out_.clear();
        fmt::format_to(std::back_inserter(out_), "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n",
                       response.status, status_line(response.status), response.content_type, response.body.size());
        for (const auto& [name, value] : response.headers) fmt::format_to(std::back_inserter(out_), "{}: {}\r\n", name, value);
        if (!keep_alive_) {
            out_ += "Connection: close\r\n";
        } else if (req.version == 10) {
            out_ += "Connection: keep-alive\r\n";
        }
        out_ += "\r\n";
        if (!head) out_ += response.body;
        if (server_->observer_) {
            server_->observer_({remote_, req.method, req.path, response.status, response.body.size(),
                                match_.found != nullptr ? match_.found->index : static_cast<std::size_t>(-1),
                                clock::now() - started_});
        }
        phase_ = phase::writing;
        set_deadline(options().write_timeout);
        boost::asio::async_write(socket_, boost::asio::buffer(out_), [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
            self->on_written(ec);
        });
    }

    void on_written(boost::system::error_code ec) {
        if (closed_) return;
        if (ec) return close();
        if (!keep_alive_ || server_->stopping_) return linger();
        begin_request(false);
        process();  // a pipelined request may be buffered already
    }

    /// Sends FIN and discards what the client still sends for a moment, so that closing with
    /// unread bytes (which resets the connection) does not destroy the answer in flight.
    void linger() {
        if (eof_ || server_->stopping_) return close();
        boost::system::error_code ec;
        socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_send, ec);
        phase_ = phase::lingering;
        set_deadline(std::chrono::milliseconds(2000));
        read();
    }

    http_server* server_;
    io_shard* shard_;
    boost::asio::ip::tcp::socket socket_;
    std::list<std::shared_ptr<connection>>::iterator self_;
    std::string remote_;
    boost::beast::flat_buffer buffer_;
    std::optional<request_reader> reader_;
    router::match match_;
    std::string out_;
    phase phase_ = phase::header;
    clock::time_point deadline_{};
    clock::time_point started_{};
    bool keep_alive_ = true;
    bool eof_ = false;
    bool closed_ = false;
};

}  // namespace detail

inline void http_server::open(detail::io_shard& shard, boost::asio::ip::tcp::socket socket) {
    if (stopping_) return;
    connections_.fetch_add(1);
    auto c = std::make_shared<detail::connection>(*this, shard, std::move(socket));
    shard.connections.push_front(c);
    c->start(shard.connections.begin());
}

inline void http_server::sweep(detail::io_shard& shard) {
    shard.sweep.expires_after(std::chrono::milliseconds(100));
    shard.sweep.async_wait([this, &shard](boost::system::error_code ec) {
        if (ec) return;
        const auto now = detail::connection::clock::now();
        for (auto it = shard.connections.begin(); it != shard.connections.end();) {
            auto c = *it++;  // check() may erase c from the list
            c->check(now);
        }
        sweep(shard);
    });
}

inline void http_server::close_idle(detail::io_shard& shard) {
    for (auto it = shard.connections.begin(); it != shard.connections.end();) {
        auto c = *it++;
        c->close_if_idle();
    }
}

inline void http_server::close_all(detail::io_shard& shard) {
    shard.sweep.cancel();
    while (!shard.connections.empty()) {
        auto c = shard.connections.front();
        c->close();
    }
}

}  // namespace allocation::service

#endif  // ALLOCATION_SERVICE_HTTP_SERVER_HPP
