// allocation tests — the PostgreSQL server the postgres module runs against, and a fresh schema
// per test.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_TESTS_ADAPTERS_POSTGRES_SERVER_HPP
#define ALLOCATION_TESTS_ADAPTERS_POSTGRES_SERVER_HPP

#include <unistd.h>  // getpid

#include <atomic>       // atomic
#include <cstdio>       // popen, pclose, fgets
#include <cstdlib>      // getenv, atexit, system
#include <filesystem>   // path, exists
#include <stdexcept>    // runtime_error
#include <string>       // string
#include <string_view>  // string_view

#include <fmt/format.h>
#include <pqxx/pqxx>

#include <allocation/adapters/postgres/store.hpp>

#ifndef ALLOCATION_POSTGRES_TEST_SCRIPT
#define ALLOCATION_POSTGRES_TEST_SCRIPT "scripts/postgres-test-server.sh"
#endif

namespace allocation::testing::postgres {

namespace detail {

inline auto state_dir() -> std::string {
#ifdef ALLOCATION_POSTGRES_TEST_STATE  // the build tree's, shared with the ctest fixture
    return ALLOCATION_POSTGRES_TEST_STATE;
#else
    const char* tmp = std::getenv("TMPDIR");
    return fmt::format("{}/allocation-postgres-test-{}", tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", getpid());
#endif
}

inline void stop_server() {
    const auto command = fmt::format("'{}' stop '{}'", ALLOCATION_POSTGRES_TEST_SCRIPT, state_dir());
    if (std::system(command.c_str()) != 0) fmt::print(stderr, "could not stop the test PostgreSQL server\n");
}

inline auto start_server() -> std::string {
    const auto dir = state_dir();
    // Started by someone else (the ctest fixture): theirs to stop.
    const bool ours = !std::filesystem::exists(std::filesystem::path(dir) / "url");
    const auto command = fmt::format("'{}' start '{}'", ALLOCATION_POSTGRES_TEST_SCRIPT, dir);
    FILE* out = popen(command.c_str(), "r");
    if (out == nullptr) throw std::runtime_error("cannot run " + command);
    std::string url;
    char buffer[512];
    while (std::fgets(buffer, sizeof buffer, out) != nullptr) url += buffer;
    if (pclose(out) != 0 || url.empty()) throw std::runtime_error("could not start PostgreSQL with " + command);
    while (!url.empty() && (url.back() == '\n' || url.back() == '\r')) url.pop_back();
    if (ours) std::atexit(stop_server);
    return url;
}

}  // namespace detail

/// The URL of the test server: ALLOCATION_TEST_POSTGRES_URL, or a throwaway cluster started with
/// scripts/postgres-test-server.sh (reused when the ctest fixture started it, else stopped when
/// the test program exits).
inline auto server_url() -> const std::string& {
    static const std::string url = [] {
        if (const char* env = std::getenv("ALLOCATION_TEST_POSTGRES_URL"); env != nullptr && *env != '\0') {
            return std::string(env);
        }
        return detail::start_server();
    }();
    return url;
}

/// `url` with its search_path set to `schema` (libpq's `options` parameter).
inline auto with_search_path(const std::string& url, std::string_view schema) -> std::string {
    const char sep = url.find('?') == std::string::npos ? '?' : '&';
    return fmt::format("{}{}options=-csearch_path%3D{}", url, sep, schema);
}

/// A schema of its own on the test server, dropped at the end: tests running at once, in one
/// process or several, never see each other's rows.
class scratch_schema {
public:
    scratch_schema() {
        static std::atomic<int> counter{0};
        name_ = fmt::format("t_{}_{}", getpid(), counter++);
        pqxx::connection c(server_url());
        pqxx::nontransaction tx(c);
        tx.exec(fmt::format("DROP SCHEMA IF EXISTS {0} CASCADE; CREATE SCHEMA {0}", name_));
        url_ = with_search_path(server_url(), name_);
    }
    scratch_schema(const scratch_schema&) = delete;
    auto operator=(const scratch_schema&) -> scratch_schema& = delete;
    ~scratch_schema() {
        try {
            pqxx::connection c(server_url());
            pqxx::nontransaction tx(c);
            tx.exec(fmt::format("DROP SCHEMA IF EXISTS {} CASCADE", name_));
        } catch (...) {
        }
    }
    /// A DATABASE_URL whose tables live in this schema.
    [[nodiscard]] auto url() const -> const std::string& { return url_; }
    [[nodiscard]] auto name() const -> const std::string& { return name_; }

private:
    std::string name_;
    std::string url_;
};

/// A fresh schema and a migrated store on it.
struct fresh_store {
    scratch_schema schema;
    allocation::postgres::store store{schema.url()};
    fresh_store() {
        if (!store.migrate()) throw std::runtime_error("migration failed on " + schema.url());
    }
    /// A string literal for SQL text (standard_conforming_strings).
    static auto quote(const std::string& text) -> std::string {
        std::string out = "'";
        for (const char ch : text) out += ch == '\'' ? std::string("''") : std::string(1, ch);
        return out + "'";
    }
    /// Runs SQL on the schema outside of any unit of work; returns the first column of the first row.
    auto scalar(const std::string& sql) -> std::string {
        pqxx::connection c(schema.url());
        pqxx::nontransaction tx(c);
        const auto r = tx.exec(sql);
        return r.empty() || r[0][0].is_null() ? std::string() : std::string(r[0][0].c_str());
    }
};

}  // namespace allocation::testing::postgres

#endif  // ALLOCATION_TESTS_ADAPTERS_POSTGRES_SERVER_HPP
