// allocation-service — the example HTTP service: the allocation library behind the reference
// service's JSON API, with Redis events. `allocation-service --help` lists the options.
// SPDX-License-Identifier: MIT
#include <pthread.h>  // pthread_sigmask
#include <signal.h>   // sigset_t, sigtimedwait

#include <atomic>     // atomic
#include <cstdio>     // fputs, fflush
#include <memory>     // unique_ptr
#include <optional>   // optional
#include <string>     // string
#include <thread>     // jthread
#include <type_traits>  // is_same_v
#include <variant>    // get_if
#include <vector>     // vector

#include <allocation/adapters/memory/allocations_view.hpp>
#include <allocation/adapters/memory/unit_of_work.hpp>
#include <allocation/adapters/sqlite.hpp>
#ifdef ALLOCATION_SERVICE_POSTGRES
#include <allocation/adapters/postgres.hpp>
#endif
#include <allocation/bus/bootstrap.hpp>
#include <fmt/format.h>
#include <httplib.h>

#include "config.hpp"
#include "http.hpp"
#include "idempotency.hpp"
#include "json_api.hpp"
#include "log.hpp"
#include "outbox_relay.hpp"
#include "redis.hpp"

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

/// Calls `run(store, view, keys, outbox)` with the store, allocations read model, Idempotency-Key
/// store and outbox DATABASE_URL selects. The one place that knows the storage adapters.
template <class F>
auto with_storage(const config& cfg, F&& run) -> int {
    const auto& db = cfg.database;
    switch (db.type) {
        case database_config::kind::memory: {
            memory::store<> store;
            memory::allocations_view view;
            memory_idempotency_store keys;
            no_outbox outbox;
            return run(store, view, keys, outbox);
        }
        case database_config::kind::sqlite: {
            std::string error;
            sqlite::options opts;
            opts.durability = cfg.full_durability ? sqlite::durability::full : sqlite::durability::normal;
            auto opened = sqlite::store<>::open(db.location, opts, &error);
            if (!opened) {
                log("storage: cannot open the SQLite database {}: {}", db.location, error);
                return 1;
            }
            auto& store = *opened.value();
            sqlite::allocations_view view(store);
            sqlite::idempotency_keys answers(store);
            durable_idempotency_store keys(answers);
            sqlite::outbox outbox(store);
            return run(store, view, keys, outbox);
        }
        case database_config::kind::postgresql: {
#ifdef ALLOCATION_SERVICE_POSTGRES
            postgres::options opts;
            opts.max_connections = cfg.threads + 4;  // one per worker, a few for the relay and reads
            opts.log = [](std::string_view line) { log("postgres: {}", line); };
            std::string error;
            auto opened = postgres::store<>::open(db.location, std::move(opts), &error);
            if (!opened) {
                log("storage: cannot open the PostgreSQL database: {}", error);
                return 1;
            }
            auto& store = *opened.value();
            postgres::allocations_view view(store);
            postgres::idempotency_keys answers(store);
            durable_idempotency_store keys(answers);
            postgres::outbox outbox(store);
            return run(store, view, keys, outbox);
#else
            log("storage: this allocation-service was built without PostgreSQL support (libpqxx)");
            return 2;
#endif
        }
    }
    return 2;
}

/// Blocks SIGINT, SIGTERM and SIGPIPE in this thread and every thread started after; SIGINT and
/// SIGTERM are then taken by signal_watcher, SIGPIPE never delivered.
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

template <class Store, class View, class Outbox>
auto serve(const config& cfg, const sigset_t& stop_signals, Store& store, View& view, idempotency_store& keys,
           Outbox& outbox) -> int {
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
            if (publisher) {
                return bootstrap(store, options, std::ref(view), log_notifications{}, redis_events{publisher.get()});
            }
            return bootstrap(store, options, std::ref(view), log_notifications{});
        } else {
            return bootstrap(store, options, log_notifications{});  // the store writes the view
        }
    }();
    if (cfg.reorder_point > 0) bus.set_default_replenishment({.reorder_point = quantity{cfg.reorder_point}});

    http_api<Store, View> api(bus, store, view, keys);
    httplib::Server server;
    server.new_task_queue = [n = cfg.threads] { return new httplib::ThreadPool(n); };
    server.set_keep_alive_timeout(2);
    server.set_keep_alive_max_count(100'000);
    server.set_tcp_nodelay(true);  // headers and body are separate writes: no Nagle delay between them
    api.install(server);

    int port = cfg.port;
    if (port == 0) {
        port = server.bind_to_any_port(cfg.host);
        if (port < 0) port = 0;
    } else if (!server.bind_to_port(cfg.host, port)) {
        port = 0;
    }
    if (port == 0) {
        log("error: cannot listen on {}", base_url(cfg.host, cfg.port));
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

    // Stops the server on SIGINT/SIGTERM; stop() is repeated in case the signal came before
    // the server started listening.
    std::atomic<bool> served{false};
    std::jthread watcher([&](std::stop_token token) {
        bool stopping = false;
        while (!token.stop_requested()) {
            timespec tick{0, 50'000'000};
            const int sig = sigtimedwait(&stop_signals, nullptr, &tick);
            if (sig > 0 && !stopping) {
                log("received signal {}, finishing requests in flight", sig);
                stopping = true;
            }
            if (stopping && !served) server.stop();
        }
    });

    const auto url = base_url(cfg.host, port);
    std::fputs(fmt::format("listening on {}\n", url).c_str(), stdout);
    std::fflush(stdout);
    log("listening on {} (database {}, redis {})", url, cfg.database.location.empty() ? "memory://" : cfg.database.location,
        cfg.redis ? fmt::format("redis://{}:{}", cfg.redis->host, cfg.redis->port) : "none");
    const bool ok = server.listen_after_bind();
    served = true;
    watcher.request_stop();
    watcher.join();

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
    return ok ? 0 : 1;
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
    const auto stop_signals = block_signals();
    try {
        return with_storage(cfg, [&](auto& store, auto& view, idempotency_store& keys, auto& outbox) {
            return serve(cfg, stop_signals, store, view, keys, outbox);
        });
    } catch (const std::exception& e) {
        log("fatal: {}", e.what());
        return 1;
    }
}
