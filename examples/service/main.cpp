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
#include <variant>    // get_if
#include <vector>     // vector

#include <allocation/adapters/memory/allocations_view.hpp>
#include <allocation/adapters/memory/unit_of_work.hpp>
#include <allocation/bus/bootstrap.hpp>
#include <fmt/format.h>
#include <httplib.h>

#include "config.hpp"
#include "http.hpp"
#include "idempotency.hpp"
#include "json_api.hpp"
#include "log.hpp"
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

/// Calls `run(store, view)` with the store and read model DATABASE_URL selects. The one place
/// that knows the storage adapters.
template <class F>
auto with_storage(const database_config& db, F&& run) -> int {
    switch (db.type) {
        case database_config::kind::memory:
            break;
        case database_config::kind::sqlite:
            log("storage: the SQLite adapter is not available yet; using the in-memory store (nothing is kept on exit)");
            break;
        case database_config::kind::postgresql:
            log("storage: the PostgreSQL adapter is not available yet");
            return 2;
    }
    memory::store<> store;
    memory::allocations_view view;
    return run(store, view);
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

template <class Store, class View>
auto serve(const config& cfg, const sigset_t& stop_signals, Store& store, View& view) -> int {
    std::unique_ptr<redis_publisher> publisher;
    if (cfg.redis) publisher = std::make_unique<redis_publisher>(*cfg.redis);

    bootstrap_options options;
    options.log = [](std::string_view line) { log("bus: {}", line); };
    auto bus = [&] {
        if (publisher) return bootstrap(store, options, std::ref(view), log_notifications{}, redis_events{publisher.get()});
        return bootstrap(store, options, std::ref(view), log_notifications{});
    }();
    if (cfg.reorder_point > 0) bus.set_default_replenishment({.reorder_point = quantity{cfg.reorder_point}});

    memory_idempotency_store keys;
    http_api<Store, View> api(bus, store, view, keys);
    httplib::Server server;
    server.new_task_queue = [] { return new httplib::ThreadPool(64); };
    server.set_keep_alive_timeout(2);
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
        return with_storage(cfg.database, [&](auto& store, auto& view) { return serve(cfg, stop_signals, store, view); });
    } catch (const std::exception& e) {
        log("fatal: {}", e.what());
        return 1;
    }
}
