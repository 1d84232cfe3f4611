// allocation-service — the example HTTP service: the allocation library behind the reference
// service's JSON API, with Redis events. `allocation-service --help` lists the options.
// SPDX-License-Identifier: MIT
#include <pthread.h>  // pthread_sigmask
#include <signal.h>   // sigset_t, sigwait

#include <algorithm>    // min
#include <chrono>       // seconds, milliseconds
#include <condition_variable>  // condition_variable_any
#include <mutex>        // mutex, unique_lock
#include <stop_token>   // stop_token
#include <thread>       // jthread
#include <cstddef>      // size_t
#include <cstdio>       // fputs, fflush
#include <memory>       // unique_ptr
#include <string>       // string
#include <type_traits>  // is_same_v
#include <variant>      // get_if
#include <vector>       // vector

#include <allocation/adapters/memory/unit_of_work.hpp>
#include <allocation/adapters/sqlite.hpp>
#ifdef ALLOCATION_SERVICE_POSTGRES
#include <allocation/adapters/postgres.hpp>
#endif
#include <allocation/bus/bootstrap.hpp>
#include <fmt/format.h>

#include "config.hpp"
#include "http.hpp"
#include "http_server.hpp"
#include "json_api.hpp"
#include "log.hpp"
#include "metrics.hpp"
#include "outbox_relay.hpp"
#include "redis.hpp"
#include "router.hpp"

namespace {

using namespace allocation;
using namespace allocation::service;

/// Notices for purchasing (out of stock, low stock) go to the log.
struct log_notifications {
    auto send(std::string_view destination, std::string_view message) -> result<void> {
        log("notify {}: {}", destination, message);
        return success();
    }
};

/// Hands the bus's events to the Redis publisher's queue as the documented JSON messages.
struct redis_events {
    redis_publisher* out;
    template <class Event>
        requires requires(const Event& e) { event_message(e); }
    auto publish(std::string_view channel, const Event& e) -> result<void> {
        if (!out->publish(std::string(channel), event_message(e))) return errc::storage_error;
        return success();
    }
};

/// Storage without an outbox (the in-memory store): events go to Redis from the bus.
struct no_outbox {};

/// Calls `run(store, outbox)` with the store and outbox DATABASE_URL selects. The one place that
/// knows the storage adapters.
template <class F>
auto with_storage(const config& cfg, F&& run) -> int {
    const auto& db = cfg.database;
    switch (db.type) {
        case database_config::kind::memory: {
            memory::store store;
            no_outbox outbox;
            return run(store, outbox);
        }
        case database_config::kind::sqlite: {
            std::string error;
            sqlite::options opts;
            opts.durability = cfg.full_durability ? sqlite::durability::full : sqlite::durability::normal;
            auto opened = sqlite::store::open(db.location, opts, &error);
            if (!opened) {
                log("storage: cannot open the SQLite database {}: {}", db.location, error);
                return 1;
            }
            auto& store = *opened.value();
            sqlite::outbox outbox(store);
            return run(store, outbox);
        }
        case database_config::kind::postgresql: {
#ifdef ALLOCATION_SERVICE_POSTGRES
            // The grouped store: products cached, the commits of concurrent commands written
            // several per transaction, up to options::groups_in_flight groups at once. A worker
            // takes a pooled connection only for a moment (a load, quoting its writes, a read),
            // never for a command in flight, so the pool is smaller than the workers: 16 for
            // loads and reads, one per group in flight, two for the relay and the hold sweep.
            postgres::options opts;
            opts.max_connections = std::min<std::size_t>(worker_threads(cfg), 16) + opts.groups_in_flight + 2;
            opts.log = [](std::string_view line) { log("postgres: {}", line); };
            std::string error;
            auto opened = postgres::grouped_store::open(db.location, std::move(opts), &error);
            if (!opened) {
                log("storage: cannot open the PostgreSQL database: {}", error);
                return 1;
            }
            auto& store = *opened.value();
            postgres::outbox outbox(store);
            return run(store, outbox);
#else
            log("storage: this allocation-service was built without PostgreSQL support (libpqxx)");
            return 2;
#endif
        }
    }
    return 2;
}

/// Sweeps the holds past their deadline every `period` on a thread of its own, so that
/// HoldExpired (hold_expired on Redis) follows a deadline within about a period. Their stock is
/// available from the deadline on whether or not a sweep ran.
template <class Bus>
class hold_sweeper {
public:
    hold_sweeper(Bus& bus, std::chrono::milliseconds period)
        : thread_([this, &bus, period](const std::stop_token& stop) { run(bus, period, stop); }) {}
    hold_sweeper(const hold_sweeper&) = delete;
    auto operator=(const hold_sweeper&) -> hold_sweeper& = delete;
    ~hold_sweeper() { stop(); }

    void stop() {
        thread_.request_stop();
        if (thread_.joinable()) thread_.join();
    }

private:
    void run(Bus& bus, std::chrono::milliseconds period, const std::stop_token& stop) {
        std::mutex m;
        std::condition_variable_any wake;
        std::unique_lock lock(m);
        for (;;) {
            (void)wake.wait_for(lock, stop, period, [] { return false; });  // a period, or until stopped
            if (stop.stop_requested()) return;
            if (auto swept = bus.handle(commands::expire_holds{}); !swept) {
                log("holds: a sweep failed: {}", swept.error().message());
            } else if (swept.value() > 0) {
                log("holds: {} expired", swept.value());
            }
        }
    }

    std::jthread thread_;
};

/// Blocks SIGINT, SIGTERM and SIGPIPE in this thread and every thread started after; SIGINT and
/// SIGTERM are then taken by sigwait() in serve(), SIGPIPE never delivered.
auto block_signals() -> sigset_t {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    return stop;
}

/// The metrics read when scraped: requests in flight and connections, and what the store,
/// outbox, relay and Redis clients can tell.
template <class Store, class Outbox, class Relay>
void add_metrics(metrics_registry& m, const http_server& server, Store& store, Outbox& outbox, const Relay* relay,
                 const redis_publisher* publisher, redis_subscriber* subscriber) {
    m.add("allocation_http_requests_in_flight", "gauge", "HTTP requests read and not answered yet.", "",
          [&server] { return static_cast<double>(server.in_flight()); });
    m.add("allocation_http_connections", "gauge", "Open HTTP connections.", "",
          [&server] { return static_cast<double>(server.connections()); });
    if constexpr (requires { store.transactions(); store.conflicts(); }) {
        m.add("allocation_store_commits_total", "counter", "Transactions the store committed.", "",
              [&store] { return static_cast<double>(store.transactions()); });
        m.add("allocation_store_conflicts_total", "counter", "Commits the store refused as conflicting with another writer.",
              "", [&store] { return static_cast<double>(store.conflicts()); });
    }
    if constexpr (requires { outbox.pending(); }) {
        m.add("allocation_outbox_pending", "gauge", "Events committed to the outbox and not yet published.", "", [&outbox] {
            auto n = outbox.pending();
            return n ? static_cast<double>(n.value()) : -1.0;
        });
    }
    if (relay != nullptr) {
        m.add("allocation_outbox_relay_lag_seconds", "gauge",
              "Zero when the relay's last pass emptied the outbox, else the time since one did.", "",
              [relay] { return std::chrono::duration<double>(relay->lag()).count(); });
        m.add("allocation_redis_connected", "gauge", "1 when the Redis client is connected.", R"(client="relay")",
              [relay] { return relay->connected() ? 1.0 : 0.0; });
    }
    if (publisher != nullptr) {
        m.add("allocation_redis_connected", "gauge", "1 when the Redis client is connected.", R"(client="publisher")",
              [publisher] { return publisher->connected() ? 1.0 : 0.0; });
    }
    if (subscriber != nullptr) {
        m.add("allocation_redis_connected", "gauge", "1 when the Redis client is connected.", R"(client="subscriber")",
              [subscriber] { return subscriber->subscribed() ? 1.0 : 0.0; });
    }
}

template <class Store, class Outbox>
auto serve(const config& cfg, const sigset_t& stop_signals, Store& store, Outbox& outbox) -> int {
    constexpr bool in_memory = std::is_same_v<Outbox, no_outbox>;
    // In memory, the bus hands events to the publisher's queue; with a database they are
    // committed to the outbox with the change and the relay publishes them.
    std::unique_ptr<redis_publisher> publisher;
    if (in_memory && cfg.redis) publisher = std::make_unique<redis_publisher>(*cfg.redis);

    bootstrap_options options;
    options.log = [](std::string_view line) { log("bus: {}", line); };
    // Several service processes may share one database: a write that met another one's is
    // tried again (with a randomised backoff, at most 20 ms) before the client hears 503.
    options.retry.attempts = 16;
    auto bus = [&] {
        if constexpr (in_memory) {
            if (publisher) return bootstrap(store, options, log_notifications{}, redis_events{publisher.get()});
        }
        return bootstrap(store, options, log_notifications{});
    }();
    if (cfg.reorder_point > 0) bus.set_default_replenishment({.reorder_point = quantity{cfg.reorder_point}});

    http_api<Store> api(bus, store);
    router routes;
    api.install(routes);
    metrics_registry metrics;
    routes.get("/metrics", [&metrics](const http_request&, const route_params&) {
        return http_response{200, metrics.text(), std::string(metrics_content_type), {}};
    });
    std::vector<std::string> labels;
    for (const auto& r : routes.routes()) labels.push_back(r.pattern);
    metrics.http().set_routes(std::move(labels));

    server_options listen_options;
    listen_options.host = cfg.host;
    listen_options.port = cfg.port;
    listen_options.io_threads = cfg.io_threads;
    listen_options.workers = worker_threads(cfg);
    listen_options.max_in_flight = cfg.max_in_flight;
    listen_options.header_timeout = std::chrono::seconds(cfg.header_timeout_s);
    listen_options.body_timeout = std::chrono::seconds(cfg.body_timeout_s);
    listen_options.idle_timeout = std::chrono::seconds(cfg.idle_timeout_s);
    http_server server(routes, listen_options, [&metrics](const answer_record& a) {
        metrics.http().observe(a.route, a.status, a.took);
        log_request(a.remote, a.method, a.path, a.status, a.body_bytes, a.took);
    });
    std::string error;
    const auto port = server.listen(error);
    if (port == 0) {
        log("error: cannot listen on {}: {}", base_url(cfg.host, cfg.port), error);
        return 1;
    }

    std::unique_ptr<redis_subscriber> subscriber;
    if (cfg.redis) {
        subscriber = std::make_unique<redis_subscriber>(
            *cfg.redis, std::vector<std::string>{"change_batch_quantity"},
            [&bus](std::string_view, std::string_view payload) {
                auto cmd = parse_change_batch_quantity(payload);
                if (!cmd) {
                    log("redis: ignored a change_batch_quantity message: {}: {:.200}", cmd.error().message, payload);
                    return;
                }
                if (auto r = bus.handle(cmd.value()); !r) {
                    log("redis: change_batch_quantity of batch {} failed: {}", cmd.value().ref, r.error().message());
                } else {
                    log("redis: batch {} quantity set to {}", cmd.value().ref, cmd.value().qty);
                }
            });
    }

    std::unique_ptr<outbox_relay<Outbox>> relay;
    if constexpr (!in_memory) {
        if (cfg.redis) relay = std::make_unique<outbox_relay<Outbox>>(outbox, *cfg.redis);
    }

    add_metrics(metrics, server, store, outbox, relay.get(), publisher.get(), subscriber.get());
    hold_sweeper sweeper(bus, std::chrono::milliseconds(cfg.hold_sweep_ms));
    server.start();
    const auto url = base_url(cfg.host, port);
    std::fputs(fmt::format("listening on {}\n", url).c_str(), stdout);
    std::fflush(stdout);
    log("listening on {} (database {}, redis {})", url, cfg.database.location.empty() ? "memory://" : cfg.database.location,
        cfg.redis ? fmt::format("redis://{}:{}", cfg.redis->host, cfg.redis->port) : "none");

    int sig = 0;
    sigwait(&stop_signals, &sig);
    log("received signal {}, finishing requests in flight", sig);
    server.stop();
    sweeper.stop();

    if (subscriber) subscriber->stop();
    if constexpr (!in_memory) {
        if (relay) relay->stop(std::chrono::seconds(2));
        if (auto left = outbox.pending(); left && left.value() > 0) {
            log("outbox: {} events wait for Redis", left.value());
        }
        if constexpr (requires { store.transactions(); }) {
            log("storage: {} transactions written, {} commits refused as conflicts", store.transactions(), store.conflicts());
        }
    }
    if (publisher) {
        if (!publisher->flush(std::chrono::seconds(2))) {
            log("redis: {} events not published before exit", publisher->pending());
        }
        publisher->stop(std::chrono::milliseconds(0));
    }
    log("stopped");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<const char*> args(argv, argv + argc);
    auto parsed_config = parse_config(args);
    if (const auto* exit = std::get_if<exit_request>(&parsed_config)) {
        std::fputs(exit->text.c_str(), exit->code == 0 ? stdout : stderr);
        return exit->code;
    }
    const auto& cfg = std::get<config>(parsed_config);
    if (cfg.json_log) set_log_format(log_format::json_lines);
    const auto stop_signals = block_signals();
    try {
        return with_storage(cfg, [&](auto& store, auto& outbox) { return serve(cfg, stop_signals, store, outbox); });
    } catch (const std::exception& e) {
        log("fatal: {}", e.what());
        return 1;
    }
}
