// Tests of examples/service/config.hpp: options, environment variables and their defaults.
// SPDX-License-Identifier: MIT
#include "config.hpp"

#include <map>
#include <string>
#include <vector>

#include <doctest/doctest.h>

namespace config_tests {

using namespace allocation::service;

namespace {

struct run {
    std::vector<const char*> args{"allocation-service"};
    std::map<std::string, std::string> env;

    auto parse() const {
        return parse_config(args, [this](const char* name) -> std::optional<std::string> {
            const auto it = env.find(name);
            if (it == env.end()) return std::nullopt;
            return it->second;
        });
    }
    auto ok() const -> config {
        auto r = parse();
        REQUIRE(std::holds_alternative<config>(r));
        return std::get<config>(r);
    }
    auto exit() const -> exit_request {
        auto r = parse();
        REQUIRE(std::holds_alternative<exit_request>(r));
        return std::get<exit_request>(r);
    }
};

}  // namespace

TEST_SUITE("service") {

TEST_CASE("without options or environment the service takes the documented defaults") {
    const auto c = run{}.ok();
    CHECK(c.host == "127.0.0.1");
    CHECK(c.port == 5005);
    CHECK(c.database == database_config{database_config::kind::sqlite, "allocation.db"});
    REQUIRE(c.redis);
    CHECK(*c.redis == redis_endpoint{"127.0.0.1", 6379, "", 0});
    CHECK(c.reorder_point == 0);
    CHECK(c.full_durability);
    CHECK(worker_threads(c) == 64);
    CHECK(c.io_threads == 1);
    CHECK(c.max_in_flight == 1024);
    CHECK_FALSE(c.json_log);
    CHECK(c.header_timeout_s == 10);
    CHECK(c.body_timeout_s == 30);
    CHECK(c.idle_timeout_s == 60);
}

TEST_CASE("each option is read from its environment variable") {
    run r;
    r.env = {{"ALLOCATION_HOST", "0.0.0.0"},
             {"ALLOCATION_PORT", "8080"},
             {"DATABASE_URL", "postgresql://u:p@db:5432/alloc"},
             {"REDIS_URL", "redis://cache:6380/2"},
             {"ALLOCATION_REORDER_POINT", "10"},
             {"ALLOCATION_DURABILITY", "normal"},
             {"ALLOCATION_IO_THREADS", "2"},
             {"ALLOCATION_MAX_IN_FLIGHT", "10"},
             {"ALLOCATION_LOG_FORMAT", "json"},
             {"ALLOCATION_HEADER_TIMEOUT", "5"},
             {"ALLOCATION_BODY_TIMEOUT", "6"},
             {"ALLOCATION_IDLE_TIMEOUT", "7"}};
    const auto c = r.ok();
    CHECK(c.io_threads == 2);
    CHECK(c.max_in_flight == 10);
    CHECK(c.json_log);
    CHECK(c.header_timeout_s == 5);
    CHECK(c.body_timeout_s == 6);
    CHECK(c.idle_timeout_s == 7);
    CHECK(c.host == "0.0.0.0");
    CHECK(c.port == 8080);
    CHECK(c.database == database_config{database_config::kind::postgresql, "postgresql://u:p@db:5432/alloc"});
    REQUIRE(c.redis);
    CHECK(*c.redis == redis_endpoint{"cache", 6380, "", 2});
    CHECK(c.reorder_point == 10);
    CHECK_FALSE(c.full_durability);
}

TEST_CASE("a flag wins over its environment variable") {
    run r;
    r.env = {{"ALLOCATION_PORT", "8080"}, {"REDIS_URL", "redis://cache:6380"}};
    r.args = {"allocation-service", "--port", "9090", "--redis=none"};
    const auto c = r.ok();
    CHECK(c.port == 9090);
    CHECK_FALSE(c.redis);
}

TEST_CASE("the worker threads are 64 on a database, 2 on the in-memory store, unless given") {
    run r;
    CHECK(worker_threads(r.ok()) == 64);
    r.args = {"allocation-service", "--database", "memory://"};
    CHECK(worker_threads(r.ok()) == 2);
    r.args = {"allocation-service", "--database", "memory://", "--threads", "8"};
    CHECK(worker_threads(r.ok()) == 8);
}

TEST_CASE("an empty environment variable counts as unset") {
    run r;
    r.env = {{"ALLOCATION_PORT", ""}};
    CHECK(r.ok().port == 5005);
}

TEST_CASE("port zero asks for any free port") {
    run r;
    r.args = {"allocation-service", "--port=0"};
    CHECK(r.ok().port == 0);
}

TEST_CASE("help lists every option with its environment variable and default, and exits with 0") {
    run r;
    r.args = {"allocation-service", "--help"};
    const auto e = r.exit();
    CHECK(e.code == 0);
    for (const char* text : {"--host", "ALLOCATION_HOST", "127.0.0.1", "--port", "ALLOCATION_PORT", "5005",
                             "--database", "DATABASE_URL", "allocation.db", "--redis", "REDIS_URL",
                             "redis://127.0.0.1:6379", "--reorder-point", "ALLOCATION_REORDER_POINT", "--log-format",
                             "ALLOCATION_LOG_FORMAT", "--io-threads", "--max-in-flight", "--header-timeout", "--body-timeout",
                             "--idle-timeout"}) {
        CHECK_MESSAGE(e.text.find(text) != std::string::npos, text);
    }
}

TEST_CASE("a bad value is refused with a message and exit code 2") {
    run r;
    std::string expected;
    SUBCASE("a port that is not a number") {
        r.args = {"allocation-service", "--port", "http"};
        expected = "--port";
    }
    SUBCASE("a log format that is neither text nor json") {
        r.args = {"allocation-service", "--log-format", "xml"};
        expected = "--log-format";
    }
    SUBCASE("a header timeout of zero seconds") {
        r.args = {"allocation-service", "--header-timeout", "0"};
        expected = "--header-timeout";
    }
    SUBCASE("a port beyond 65535") {
        r.args = {"allocation-service", "--port", "65536"};
        expected = "--port";
    }
    SUBCASE("a negative reorder point") {
        r.args = {"allocation-service", "--reorder-point", "-1"};
        expected = "--reorder-point";
    }
    SUBCASE("a durability other than full or normal") {
        r.args = {"allocation-service", "--durability", "none"};
        expected = "--durability";
    }
    SUBCASE("a database URL of an unknown kind") {
        r.args = {"allocation-service", "--database", "mysql://db/x"};
        expected = "--database";
    }
    SUBCASE("a Redis URL of another scheme") {
        r.args = {"allocation-service", "--redis", "rediss://cache"};
        expected = "--redis";
    }
    SUBCASE("an unknown option") {
        r.args = {"allocation-service", "--verbose"};
        expected = "unknown option --verbose";
    }
    SUBCASE("an option without its value") {
        r.args = {"allocation-service", "--port"};
        expected = "needs a value";
    }
    SUBCASE("a bad environment variable names the variable") {
        r.env = {{"ALLOCATION_PORT", "x"}};
        expected = "ALLOCATION_PORT";
    }
    const auto e = r.exit();
    CHECK(e.code == 2);
    CHECK_MESSAGE(e.text.find(expected) != std::string::npos, e.text);
}

TEST_CASE("a database URL names a SQLite file, PostgreSQL or the in-memory store") {
    using kind = database_config::kind;
    CHECK(parse_database_url("allocation.db") == database_config{kind::sqlite, "allocation.db"});
    CHECK(parse_database_url("/var/lib/a.db") == database_config{kind::sqlite, "/var/lib/a.db"});
    CHECK(parse_database_url("sqlite:////var/lib/a.db") == database_config{kind::sqlite, "/var/lib/a.db"});
    CHECK(parse_database_url("sqlite:///a.db") == database_config{kind::sqlite, "a.db"});
    CHECK(parse_database_url("sqlite:///:memory:") == database_config{kind::sqlite, ":memory:"});
    CHECK(parse_database_url("postgres://h/db") == database_config{kind::postgresql, "postgres://h/db"});
    CHECK(parse_database_url("memory://") == database_config{kind::memory, ""});
    CHECK_FALSE(parse_database_url(""));
    CHECK_FALSE(parse_database_url("sqlite://"));
    CHECK_FALSE(parse_database_url("postgresql://"));
}

TEST_CASE("sqlite three-slash URL naming an existing absolute directory is taken as absolute") {
    // /tmp exists; ./tmp (relative to the test's working directory) does not.
    CHECK(parse_database_url("sqlite:///tmp/a.db") == database_config{database_config::kind::sqlite, "/tmp/a.db"});
}

TEST_CASE("a Redis URL gives host, port, password and database") {
    CHECK(parse_redis_url("redis://h") == redis_endpoint{"h", 6379, "", 0});
    CHECK(parse_redis_url("redis://h:7000") == redis_endpoint{"h", 7000, "", 0});
    CHECK(parse_redis_url("redis://:secret@h:7000/3") == redis_endpoint{"h", 7000, "secret", 3});
    CHECK(parse_redis_url("redis://user:secret@h") == redis_endpoint{"h", 6379, "secret", 0});
    CHECK(parse_redis_url("redis://[::1]:7000") == redis_endpoint{"::1", 7000, "", 0});
    CHECK(parse_redis_url("h:7000") == redis_endpoint{"h", 7000, "", 0});
    CHECK_FALSE(parse_redis_url("redis://h:0"));
    CHECK_FALSE(parse_redis_url("redis://h:x"));
    CHECK_FALSE(parse_redis_url("redis://"));
    CHECK_FALSE(parse_redis_url("redis://h/x"));
}

TEST_CASE("the listening URL brackets an IPv6 host") {
    CHECK(base_url("127.0.0.1", 5005) == "http://127.0.0.1:5005");
    CHECK(base_url("::1", 80) == "http://[::1]:80");
}

}  // TEST_SUITE
}  // namespace config_tests
