// allocation-service — command-line and environment configuration.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_SERVICE_CONFIG_HPP
#define ALLOCATION_SERVICE_CONFIG_HPP

#include <charconv>     // from_chars
#include <cstddef>      // size_t
#include <cstdint>      // int64_t, uint16_t
#include <cstdlib>      // getenv
#include <filesystem>   // path, is_directory
#include <functional>   // function
#include <limits>       // numeric_limits
#include <optional>     // optional
#include <span>         // span
#include <string>       // string
#include <string_view>  // string_view
#include <system_error> // errc
#include <utility>      // move
#include <variant>      // variant
#include <vector>       // vector

#include <allocation/domain/types.hpp>       // max_quantity, quantity
#include <allocation/domain/validation.hpp>  // is_valid_batch_quantity
#include <fmt/format.h>

namespace allocation::service {

/// Where products are stored.
struct database_config {
    enum class kind { sqlite, postgresql, memory };
    kind type = kind::sqlite;
    /// sqlite: the file path (`:memory:` for a private in-memory SQLite database);
    /// postgresql: the whole URL, as libpq takes it; memory: empty.
    std::string location = "allocation.db";
    friend auto operator==(const database_config&, const database_config&) -> bool = default;
};

/// A Redis server to connect to.
struct redis_endpoint {
    std::string host = "127.0.0.1";
    int port = 6379;
    std::string password;  ///< empty: no AUTH
    int db = 0;            ///< SELECTed after connecting when not 0
    friend auto operator==(const redis_endpoint&, const redis_endpoint&) -> bool = default;
};

/// Everything the service is started with.
struct config {
    std::string host = "127.0.0.1";
    std::uint16_t port = 5005;  ///< 0: any free port (the one chosen is printed)
    database_config database;
    std::optional<redis_endpoint> redis = redis_endpoint{};  ///< none: run without Redis
    std::int64_t reorder_point = 0;                          ///< 0: no low-stock events
    /// SQLite: true waits for the disk (fsync) before a commit is answered; false answers once
    /// the OS has the write (survives a crash of the service, not of the machine).
    bool full_durability = true;
    /// Worker threads running requests' blocking work (the bus, storage); connections cost none.
    /// 0: worker_threads() chooses.
    std::size_t threads = 0;
    std::size_t io_threads = 1;        ///< threads reading and writing connections
    std::size_t max_in_flight = 1024;  ///< requests at the workers at once; more are answered 503
    bool json_log = false;             ///< one JSON object per log line
    std::int64_t header_timeout_s = 10;  ///< a request's header section must arrive within this
    std::int64_t body_timeout_s = 30;    ///< its body within this after the header
    std::int64_t idle_timeout_s = 60;    ///< a kept-alive connection silent this long is closed
    std::int64_t hold_sweep_ms = 1000;   ///< how often holds past their deadline are swept (hold_expired)
};

/// The program should stop at once: `--help` (code 0, text for stdout) or a bad option value
/// (code 2, text for stderr).
struct exit_request {
    int code = 0;
    std::string text;
};

namespace detail {

[[nodiscard]] inline auto parse_integer(std::string_view text, std::int64_t min, std::int64_t max)
    -> std::optional<std::int64_t> {
    if (text.empty() || text.front() == '+') return std::nullopt;
    std::int64_t value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc{} || ptr != end || value < min || value > max) return std::nullopt;
    return value;
}

[[nodiscard]] inline auto starts_with_icase(std::string_view text, std::string_view prefix) noexcept -> bool {
    if (text.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        auto c = text[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != prefix[i]) return false;
    }
    return true;
}

}  // namespace detail

/// Parses a DATABASE_URL: a file path or `sqlite:///path` (SQLAlchemy's form: three slashes
/// then a relative path, four for an absolute one) for SQLite, `postgresql://…` or
/// `postgres://…` for PostgreSQL, `memory://` for the in-memory store (nothing kept on exit).
/// Because `sqlite:///tmp/x.db` is often meant as the absolute path, a relative path whose
/// directory does not exist is taken as absolute when that directory does.
[[nodiscard]] inline auto parse_database_url(std::string_view url) -> std::optional<database_config> {
    if (url.empty()) return std::nullopt;
    if (detail::starts_with_icase(url, "postgresql://") || detail::starts_with_icase(url, "postgres://")) {
        const auto rest = url.substr(url.find("://") + 3);
        if (rest.empty()) return std::nullopt;
        return database_config{database_config::kind::postgresql, std::string(url)};
    }
    if (detail::starts_with_icase(url, "memory://")) {
        if (url.size() != 9) return std::nullopt;
        return database_config{database_config::kind::memory, {}};
    }
    if (detail::starts_with_icase(url, "sqlite://")) {
        auto rest = url.substr(9);
        if (rest.empty() || rest.front() != '/') return std::nullopt;  // sqlite://host/… has no meaning
        rest.remove_prefix(1);
        if (rest.empty()) return std::nullopt;
        std::string path(rest);
        if (path.front() != '/' && path != ":memory:") {
            namespace fs = std::filesystem;
            const auto parent = fs::path(path).parent_path();
            std::error_code ec;
            if (!parent.empty() && !fs::is_directory(parent, ec) && fs::is_directory("/" / parent, ec)) {
                path.insert(path.begin(), '/');
            }
        }
        return database_config{database_config::kind::sqlite, std::move(path)};
    }
    if (url.find("://") != std::string_view::npos) return std::nullopt;  // an unknown scheme
    return database_config{database_config::kind::sqlite, std::string(url)};
}

/// Parses a REDIS_URL: `redis://[[user]:password@]host[:port][/db]`, or `host[:port]`.
/// `none` is handled by the caller.
[[nodiscard]] inline auto parse_redis_url(std::string_view url) -> std::optional<redis_endpoint> {
    redis_endpoint out;
    if (const auto scheme = url.find("://"); scheme != std::string_view::npos) {
        if (!detail::starts_with_icase(url, "redis://")) return std::nullopt;  // no TLS, no unix sockets
        url.remove_prefix(scheme + 3);
    }
    if (const auto slash = url.find('/'); slash != std::string_view::npos) {
        const auto db = url.substr(slash + 1);
        if (!db.empty()) {
            const auto n = detail::parse_integer(db, 0, 1 << 16);
            if (!n) return std::nullopt;
            out.db = static_cast<int>(*n);
        }
        url = url.substr(0, slash);
    }
    if (const auto at = url.rfind('@'); at != std::string_view::npos) {
        const auto userinfo = url.substr(0, at);
        const auto colon = userinfo.find(':');
        out.password = std::string(colon == std::string_view::npos ? userinfo : userinfo.substr(colon + 1));
        url.remove_prefix(at + 1);
    }
    std::string_view port_text;
    if (!url.empty() && url.front() == '[') {  // [::1]:6379
        const auto close = url.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        out.host = std::string(url.substr(1, close - 1));
        const auto rest = url.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return std::nullopt;
            port_text = rest.substr(1);
            if (port_text.empty()) return std::nullopt;
        }
    } else if (const auto colon = url.rfind(':'); colon != std::string_view::npos) {
        out.host = std::string(url.substr(0, colon));
        port_text = url.substr(colon + 1);
        if (port_text.empty()) return std::nullopt;
    } else {
        out.host = std::string(url);
    }
    if (out.host.empty()) return std::nullopt;
    if (!port_text.empty()) {
        const auto port = detail::parse_integer(port_text, 1, 65535);
        if (!port) return std::nullopt;
        out.port = static_cast<int>(*port);
    }
    return out;
}

/// How an environment variable is read; std::getenv by default, a map in tests.
using env_lookup = std::function<std::optional<std::string>(const char*)>;

[[nodiscard]] inline auto process_environment() -> env_lookup {
    return [](const char* name) -> std::optional<std::string> {
        const char* value = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read before threads start
        if (value == nullptr) return std::nullopt;
        return std::string(value);
    };
}

namespace detail {

struct option_spec {
    std::string_view flag;
    std::string_view env;
    std::string_view default_text;
    std::string_view help;
    /// Applies a value; returns what is wrong with it, or an empty string.
    std::string (*apply)(config&, std::string_view);
};

/// A whole number of seconds from 1 to 3600 into `out`; what is wrong with it, or nothing.
inline auto seconds(std::string_view v, std::int64_t& out) -> std::string {
    const auto n = parse_integer(v, 1, 3600);
    if (!n) return "must be a whole number of seconds from 1 to 3600";
    out = *n;
    return {};
}

inline const std::vector<option_spec>& option_specs() {
    static const std::vector<option_spec> specs = {
        {"--host", "ALLOCATION_HOST", "127.0.0.1", "address to listen on",
         [](config& c, std::string_view v) -> std::string {
             if (v.empty()) return "must not be empty";
             c.host = std::string(v);
             return {};
         }},
        {"--port", "ALLOCATION_PORT", "5005", "TCP port to listen on (0: any free port)",
         [](config& c, std::string_view v) -> std::string {
             const auto n = parse_integer(v, 0, 65535);
             if (!n) return "must be an integer from 0 to 65535";
             c.port = static_cast<std::uint16_t>(*n);
             return {};
         }},
        {"--database", "DATABASE_URL", "allocation.db",
         "SQLite file path or sqlite:///path, postgresql://user:pass@host:port/db, or memory://",
         [](config& c, std::string_view v) -> std::string {
             auto db = parse_database_url(v);
             if (!db) return "must be a path, sqlite:///path, postgresql://... or memory://";
             c.database = std::move(*db);
             return {};
         }},
        {"--redis", "REDIS_URL", "redis://127.0.0.1:6379",
         "Redis server, redis://[:password@]host[:port][/db], or none to run without Redis",
         [](config& c, std::string_view v) -> std::string {
             if (v == "none") {
                 c.redis.reset();
                 return {};
             }
             auto endpoint = parse_redis_url(v);
             if (!endpoint) return "must be redis://host[:port][/db] or none";
             c.redis = std::move(*endpoint);
             return {};
         }},
        {"--reorder-point", "ALLOCATION_REORDER_POINT", "0",
         "available quantity at or below which a product raises low_stock (0: never)",
         [](config& c, std::string_view v) -> std::string {
             const auto n = parse_integer(v, 0, std::numeric_limits<std::int64_t>::max());
             if (!n || !is_valid_batch_quantity(quantity{*n})) {
                 return fmt::format("must be an integer from 0 to {}", max_quantity);
             }
             c.reorder_point = *n;
             return {};
         }},
        {"--threads", "ALLOCATION_THREADS", "64, 2 with memory://",
         "worker threads running the requests' storage work (idle connections use none)",
         [](config& c, std::string_view v) -> std::string {
             const auto n = parse_integer(v, 1, 1024);
             if (!n) return "must be an integer from 1 to 1024";
             c.threads = static_cast<std::size_t>(*n);
             return {};
         }},
        {"--io-threads", "ALLOCATION_IO_THREADS", "1", "threads reading and writing the connections",
         [](config& c, std::string_view v) -> std::string {
             const auto n = parse_integer(v, 1, 64);
             if (!n) return "must be an integer from 1 to 64";
             c.io_threads = static_cast<std::size_t>(*n);
             return {};
         }},
        {"--max-in-flight", "ALLOCATION_MAX_IN_FLIGHT", "1024",
         "requests handled at once; one more is answered 503",
         [](config& c, std::string_view v) -> std::string {
             const auto n = parse_integer(v, 1, 1'000'000);
             if (!n) return "must be an integer from 1 to 1000000";
             c.max_in_flight = static_cast<std::size_t>(*n);
             return {};
         }},
        {"--header-timeout", "ALLOCATION_HEADER_TIMEOUT", "10",
         "seconds a client has to send a request's headers; then it is disconnected",
         [](config& c, std::string_view v) -> std::string { return seconds(v, c.header_timeout_s); }},
        {"--body-timeout", "ALLOCATION_BODY_TIMEOUT", "30",
         "seconds a client has to send a request's body after its headers; then it is disconnected",
         [](config& c, std::string_view v) -> std::string { return seconds(v, c.body_timeout_s); }},
        {"--idle-timeout", "ALLOCATION_IDLE_TIMEOUT", "60",
         "seconds a kept-alive connection may stay silent before it is closed",
         [](config& c, std::string_view v) -> std::string { return seconds(v, c.idle_timeout_s); }},
        {"--hold-sweep", "ALLOCATION_HOLD_SWEEP_MS", "1000",
         "milliseconds between sweeps of the holds past their deadline (each publishes hold_expired); "
         "their stock is available from the deadline on regardless",
         [](config& c, std::string_view v) -> std::string {
             const auto n = parse_integer(v, 10, 60'000);
             if (!n) return "must be an integer from 10 to 60000";
             c.hold_sweep_ms = *n;
             return {};
         }},
        {"--log-format", "ALLOCATION_LOG_FORMAT", "text", "text, or json: one JSON object per log line",
         [](config& c, std::string_view v) -> std::string {
             if (v != "text" && v != "json") return "must be text or json";
             c.json_log = v == "json";
             return {};
         }},
        {"--durability", "ALLOCATION_DURABILITY", "full",
         "SQLite commits: full (on disk before the answer) or normal (survives a crash of the service, "
         "not of the machine); PostgreSQL follows the server's synchronous_commit",
         [](config& c, std::string_view v) -> std::string {
             if (v != "full" && v != "normal") return "must be full or normal";
             c.full_durability = v == "full";
             return {};
         }},
    };
    return specs;
}

}  // namespace detail

/// The worker threads to run: `threads`, or when 0 enough to keep a database's commits
/// grouped (64: requests waiting for a commit wait together), and 2 for the in-memory store,
/// whose work never waits (more threads than cores would only take turns).
[[nodiscard]] inline auto worker_threads(const config& c) noexcept -> std::size_t {
    if (c.threads != 0) return c.threads;
    return c.database.type == database_config::kind::memory ? 2 : 64;
}

/// The text printed by `--help`.
[[nodiscard]] inline auto usage(std::string_view program) -> std::string {
    std::string text = "usage: " + std::string(program) + " [options]\n\n";
    text += "The allocation example service: an HTTP API that allocates order lines to batches.\n";
    text += "Each option may also be set by the environment variable beside it; flags win.\n\n";
    text += "options:\n";
    for (const auto& spec : detail::option_specs()) {
        text += "  " + std::string(spec.flag) + " VALUE  (" + std::string(spec.env) + ", default " +
                std::string(spec.default_text) + ")\n      " + std::string(spec.help) + "\n";
    }
    text += "  --help  print this text and exit\n";
    return text;
}

/// Reads the configuration from the command line and the environment (flags win). `args`
/// includes the program name. Accepts `--name value` and `--name=value`; an empty environment
/// variable counts as unset.
[[nodiscard]] inline auto parse_config(std::span<const char* const> args, const env_lookup& env = process_environment())
    -> std::variant<config, exit_request> {
    const std::string_view program = args.empty() ? "allocation-service" : args[0];
    auto fail = [&](const std::string& why) {
        return exit_request{2, std::string(program) + ": " + why + " (see --help)\n"};
    };
    config out;
    for (const auto& spec : detail::option_specs()) {
        const auto value = env(std::string(spec.env).c_str());
        if (!value || value->empty()) continue;
        if (auto why = spec.apply(out, *value); !why.empty()) {
            return fail(std::string(spec.env) + "=" + *value + ": " + why);
        }
    }
    for (std::size_t i = 1; i < args.size(); ++i) {
        std::string_view arg = args[i];
        if (arg == "--help" || arg == "-h") return exit_request{0, usage(program)};
        std::optional<std::string_view> value;
        if (const auto eq = arg.find('='); eq != std::string_view::npos && arg.starts_with("--")) {
            value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
        }
        const detail::option_spec* found = nullptr;
        for (const auto& spec : detail::option_specs()) {
            if (spec.flag == arg) found = &spec;
        }
        if (found == nullptr) return fail("unknown option " + std::string(arg));
        if (!value) {
            if (i + 1 >= args.size()) return fail(std::string(arg) + " needs a value");
            value = args[++i];
        }
        if (auto why = found->apply(out, *value); !why.empty()) {
            return fail(std::string(arg) + " " + std::string(*value) + ": " + why);
        }
    }
    return out;
}

/// `http://HOST:PORT`, with brackets around an IPv6 host.
[[nodiscard]] inline auto base_url(std::string_view host, int port) -> std::string {
    const bool v6 = host.find(':') != std::string_view::npos;
    return "http://" + (v6 ? "[" + std::string(host) + "]" : std::string(host)) + ":" + std::to_string(port);
}

}  // namespace allocation::service

#endif  // ALLOCATION_SERVICE_CONFIG_HPP
