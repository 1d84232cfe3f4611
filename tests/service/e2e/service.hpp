// allocation-service end-to-end tests — the real executable started for a test: with a database
// of its own (an SQLite file; with ALLOCATION_SERVICE_E2E_DATABASE=postgresql a PostgreSQL
// schema) and, when redis-server is installed, its own redis-server on 127.0.0.1.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_TESTS_SERVICE_E2E_SERVICE_HPP
#define ALLOCATION_TESTS_SERVICE_E2E_SERVICE_HPP

#include <signal.h>  // SIGTERM
#include <time.h>    // timegm

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <sqlite3.h>

#include "http_client.hpp"
#include "process.hpp"
#include "redis.hpp"
#ifdef ALLOCATION_SERVICE_POSTGRES
#include "adapters/postgres/server.hpp"
#endif

#ifndef ALLOCATION_SERVICE_PATH
#error "ALLOCATION_SERVICE_PATH must name the allocation-service executable"
#endif
#ifndef ALLOCATION_REDIS_SERVER
#define ALLOCATION_REDIS_SERVER ""
#endif

namespace allocation::test::e2e {

using json = nlohmann::json;
using namespace std::chrono_literals;
using header_list = http_client::header_list;
using wall_clock = std::chrono::system_clock;


inline auto have_redis_server() -> bool {
    const std::filesystem::path exe = ALLOCATION_REDIS_SERVER;
    return !exe.empty() && std::filesystem::exists(exe);
}

/// An answer: status and parsed body (null when the body is not JSON).
struct answer {
    int status = 0;
    std::string body;
    json data;
    [[nodiscard]] auto message() const -> std::string {
        return data.is_object() && data.contains("message") && data["message"].is_string() ? data["message"].get<std::string>() : "";
    }
};

/// Messages seen on Redis channels.
struct channel_log {
    std::mutex mutex;
    std::vector<json> messages;
    void add(std::string_view payload) {
        const std::lock_guard lock(mutex);
        messages.push_back(json::parse(payload, nullptr, false));
    }
    /// Waits for a message equal to `expected`.
    auto wait_for(const json& expected, std::chrono::milliseconds timeout) -> bool {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            {
                const std::lock_guard lock(mutex);
                for (const auto& m : messages) {
                    if (m == expected) return true;
                }
            }
            std::this_thread::sleep_for(10ms);
        }
        return false;
    }
    /// Waits until every message of `expected` was seen.
    auto wait_for_all(const std::vector<json>& expected, std::chrono::milliseconds timeout) -> bool {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (const auto& e : expected) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (!wait_for(e, std::max(left, std::chrono::milliseconds(0)))) return false;
        }
        return true;
    }
};

/// True when the tests run against PostgreSQL (ALLOCATION_SERVICE_E2E_DATABASE=postgresql; the
/// server is ALLOCATION_TEST_POSTGRES_URL or the test cluster of scripts/postgres-test-server.sh).
inline auto use_postgres() -> bool {
    const char* kind = std::getenv("ALLOCATION_SERVICE_E2E_DATABASE");  // NOLINT(concurrency-mt-unsafe)
    return kind != nullptr && std::string_view(kind) == "postgresql";
}

/// The database of a test's services: a file in a temporary directory (SQLite), or a schema of
/// its own on the test PostgreSQL server, dropped afterwards.
class database {
public:
    database() {
        if (use_postgres()) {
#ifdef ALLOCATION_SERVICE_POSTGRES
            schema_.emplace();
#else
            FAIL("allocation-service-e2e was built without PostgreSQL support");
#endif
        }
    }
    database(const database&) = delete;
    auto operator=(const database&) -> database& = delete;

    /// The service's DATABASE_URL.
    [[nodiscard]] auto url() const -> std::string {
#ifdef ALLOCATION_SERVICE_POSTGRES
        if (schema_) return schema_->url();
#endif
        return "sqlite:///" + path();
    }

    /// The first column of every row `sql` returns, as text (NULL as "").
    auto column(const std::string& sql) -> std::vector<std::string> {
        std::vector<std::string> out;
#ifdef ALLOCATION_SERVICE_POSTGRES
        if (schema_) {
            pqxx::connection c(schema_->url());
            pqxx::nontransaction tx(c);
            for (const auto& row : tx.exec(sql)) out.emplace_back(row[0].is_null() ? "" : row[0].c_str());
            return out;
        }
#endif
        sqlite3* raw = nullptr;
        const int rc = sqlite3_open_v2(path().c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
        const std::unique_ptr<sqlite3, int (*)(sqlite3*)> db(raw, sqlite3_close);
        REQUIRE(rc == SQLITE_OK);
        sqlite3_busy_timeout(raw, 5000);
        sqlite3_stmt* st = nullptr;
        REQUIRE_MESSAGE(sqlite3_prepare_v2(raw, sql.c_str(), -1, &st, nullptr) == SQLITE_OK, sqlite3_errmsg(raw));
        while (sqlite3_step(st) == SQLITE_ROW) {
            const auto* text = sqlite3_column_text(st, 0);
            out.emplace_back(text == nullptr ? "" : reinterpret_cast<const char*>(text));
        }
        sqlite3_finalize(st);
        return out;
    }

private:
    [[nodiscard]] auto path() const -> std::string { return (dir_.path() / "allocation.db").string(); }

    allocation::test::temp_dir dir_;
#ifdef ALLOCATION_SERVICE_POSTGRES
    std::optional<allocation::testing::postgres::scratch_schema> schema_;
#endif
};

/// Listens to a Redis channel until the returned object is destroyed.
inline auto listen_on(int redis_port, const std::string& channel, channel_log& log)
    -> std::unique_ptr<allocation::service::redis_subscriber> {
    auto sub = std::make_unique<allocation::service::redis_subscriber>(
        allocation::service::redis_endpoint{"127.0.0.1", redis_port, "", 0}, std::vector<std::string>{channel},
        [&log](std::string_view, std::string_view payload) { log.add(payload); });
    REQUIRE(sub->wait_subscribed(5s));
    return sub;
}

/// A running allocation-service: with its own database and redis-server, or on a database and
/// a redis-server (none: `--redis none`) that outlive it.
class service {
public:
    explicit service(std::vector<std::string> extra_args = {}) : own_db_(std::make_unique<database>()) {
        if (have_redis_server()) own_redis_.emplace(ALLOCATION_REDIS_SERVER);
        start(*own_db_, own_redis_ ? &*own_redis_ : nullptr, extra_args);
    }
    /// With `stderr_file`, the service's log goes to that file.
    service(database& db, allocation::test::redis_server* redis, const std::vector<std::string>& extra_args = {},
            const std::string& stderr_file = {}) {
        start(db, redis, extra_args, stderr_file);
    }
    service(const service&) = delete;
    auto operator=(const service&) -> service& = delete;
    ~service() { (void)stop(); }

    /// Stops the service with SIGTERM; its exit code.
    auto stop() -> std::optional<int> {
        if (!process_) return std::nullopt;
        process_->signal(SIGTERM);
        return process_->wait(10s);
    }

    auto post(const std::string& path, const std::string& body, const header_list& headers = {}) -> answer {
        return to_answer(client_->post(path, body, headers));
    }
    auto post(const std::string& path, const json& body, const header_list& headers = {}) -> answer {
        return post(path, body.dump(), headers);
    }
    auto get(const std::string& path) -> answer { return to_answer(client_->get(path)); }
    auto request(const std::string& method, const std::string& path) -> answer { return to_answer(client_->request(method, path)); }

    [[nodiscard]] auto process() -> child_process& { return *process_; }
    [[nodiscard]] auto redis() -> allocation::test::redis_server* { return redis_; }
    [[nodiscard]] auto port() const noexcept -> int { return port_; }

    /// Listens to a channel of the service's Redis until the returned object is destroyed.
    auto listen(const std::string& channel, channel_log& log) -> std::unique_ptr<allocation::service::redis_subscriber> {
        return listen_on(redis_->port(), channel, log);
    }

    /// Publishes on the service's Redis.
    void publish(const std::string& channel, const std::string& message) {
        std::string error;
        auto ctx = allocation::service::detail::redis_connect({"127.0.0.1", redis_->port(), "", 0}, error);
        REQUIRE_MESSAGE(ctx, error);
        REQUIRE(allocation::service::detail::redis_command(ctx.get(), error, "PUBLISH %b %b", channel.data(), channel.size(),
                                                           message.data(), message.size()));
    }

private:
    void start(database& db, allocation::test::redis_server* redis, const std::vector<std::string>& extra_args,
               const std::string& stderr_file = {}) {
        redis_ = redis;
        std::vector<std::string> argv{ALLOCATION_SERVICE_PATH, "--host", "127.0.0.1", "--port", "0", "--database",
                                      db.url(), "--redis", redis_ != nullptr ? redis_->url() : "none"};
        argv.insert(argv.end(), extra_args.begin(), extra_args.end());
        process_ = std::make_unique<child_process>(argv, std::vector<std::string>{}, stderr_file);
        const auto line = process_->wait_for_line("listening on http://127.0.0.1:", 15s);
        REQUIRE_MESSAGE(line, "allocation-service did not print its listening line");
        port_ = std::stoi(line->substr(line->rfind(':') + 1));
        client_ = std::make_unique<http_client>(port_);
    }

    static auto to_answer(const std::optional<http_answer>& r) -> answer {
        REQUIRE_MESSAGE(r, "no answer");
        answer a{r->status, r->body, json::parse(r->body, nullptr, false)};
        CHECK_MESSAGE(r->header("Content-Type").starts_with("application/json"), r->status << " " << r->body);
        return a;
    }

    std::unique_ptr<database> own_db_;
    std::optional<allocation::test::redis_server> own_redis_;
    allocation::test::redis_server* redis_ = nullptr;
    std::unique_ptr<child_process> process_;
    int port_ = 0;
    std::unique_ptr<http_client> client_;
};

inline auto batch(const std::string& ref, const std::string& sku, int qty, const json& eta = nullptr) -> json {
    return {{"ref", ref}, {"sku", sku}, {"qty", qty}, {"eta", eta}};
}
inline auto line(const std::string& order, const std::string& sku, const json& qty) -> json {
    return {{"orderid", order}, {"sku", sku}, {"qty", qty}};
}

/// A request the service must refuse: what it is, its path and body, the status expected.
struct bad_request {
    const char* what;
    std::string path;
    std::string body;
    int status;
};

/// POSTs every request of `table`: each is answered its status with a JSON message.
inline void check_refused(service& svc, const std::vector<bad_request>& table) {
    for (const auto& t : table) {
        CAPTURE(std::string(t.what));
        const auto a = svc.post(t.path, t.body);
        CHECK(a.status == t.status);
        CHECK_FALSE(a.message().empty());
    }
}

/// Waits until the service has subscribed to change_batch_quantity on its Redis (a message
/// published before that is lost, as Redis pub/sub does).
inline void wait_for_service_subscription(int redis_port) {
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    for (;;) {
        std::string error;
        auto ctx = allocation::service::detail::redis_connect({"127.0.0.1", redis_port, "", 0}, error);
        REQUIRE(ctx);
        auto reply = allocation::service::detail::redis_command(ctx.get(), error, "PUBSUB NUMSUB change_batch_quantity");
        REQUIRE(reply);
        if (reply->elements == 2 && reply->element[1]->integer >= 1) return;
        REQUIRE(std::chrono::steady_clock::now() < deadline);
        std::this_thread::sleep_for(20ms);
    }
}

/// A `YYYY-MM-DDTHH:MM:SSZ` time, or none when the text has another form.
inline auto parse_utc(const json& text) -> std::optional<wall_clock::time_point> {
    static const std::regex form(R"(^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$)");
    if (!text.is_string()) return std::nullopt;
    const auto s = text.get<std::string>();
    std::smatch m;
    if (!std::regex_match(s, m, form)) return std::nullopt;
    std::tm tm{};
    tm.tm_year = std::stoi(m[1]) - 1900;
    tm.tm_mon = std::stoi(m[2]) - 1;
    tm.tm_mday = std::stoi(m[3]);
    tm.tm_hour = std::stoi(m[4]);
    tm.tm_min = std::stoi(m[5]);
    tm.tm_sec = std::stoi(m[6]);
    return wall_clock::from_time_t(::timegm(&tm));
}

}  // namespace allocation::test::e2e

#endif  // ALLOCATION_TESTS_SERVICE_E2E_SERVICE_HPP
