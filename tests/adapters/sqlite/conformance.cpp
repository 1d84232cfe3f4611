// allocation tests — the adapter conformance kit run on the SQLite store.
// SPDX-License-Identifier: MIT
#include <unistd.h>  // getpid

#include <chrono>      // milliseconds
#include <cstdio>      // remove
#include <filesystem>  // path, remove
#include <memory>      // unique_ptr
#include <string>      // string
#include <vector>      // vector

#include <doctest/doctest.h>

#include <allocation/adapters/sqlite.hpp>
#include <allocation/testing/conformance.hpp>

namespace {

// Fresh SQLite files in the test's working directory; units of work fail at once on a product
// held by another of the same store. reopen() opens a second store on the file, as another
// process or a restart would.
struct sqlite_harness {
    using store_type = allocation::sqlite::store;
    static auto settings() -> allocation::sqlite::options {
        allocation::sqlite::options o;
        o.durability = allocation::sqlite::durability::normal;  // the kit checks logic, not fsync
        o.lock_timeout = std::chrono::milliseconds{0};
        return o;
    }
    auto make() -> std::unique_ptr<store_type> {
        static int counter = 0;
        // ctest runs test cases as parallel processes in one directory: the pid keeps them apart.
        path = std::filesystem::absolute(fmt::format("conformance-{}-{}.db", ::getpid(), ++counter)).string();
        remove_files(path);
        paths.push_back(path);
        auto s = store_type::open(path, settings());
        REQUIRE(s);
        return std::move(s).value();
    }
    auto reopen(store_type& s) -> std::unique_ptr<store_type> {
        auto again = store_type::open(s.path(), settings());
        REQUIRE(again);
        return std::move(again).value();
    }
    sqlite_harness() = default;
    sqlite_harness(const sqlite_harness&) = delete;
    auto operator=(const sqlite_harness&) -> sqlite_harness& = delete;
    ~sqlite_harness() {  // the stores, declared after the harness, are closed by now
        for (const auto& p : paths) remove_files(p);
    }
    static void remove_files(const std::string& p) {
        std::error_code ignored;
        for (const auto* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(p + suffix, ignored);
    }
    std::string path;
    std::vector<std::string> paths;
};

}  // namespace

TEST_SUITE_BEGIN("sqlite");
TEST_CASE_TEMPLATE_INVOKE(allocation_repository_conformance, sqlite_harness);
TEST_CASE_TEMPLATE_INVOKE(allocation_unit_of_work_conformance, sqlite_harness);
TEST_CASE_TEMPLATE_INVOKE(allocation_idempotency_conformance, sqlite_harness);
TEST_CASE_TEMPLATE_INVOKE(allocation_concurrency_conformance, sqlite_harness);
TEST_CASE_TEMPLATE_INVOKE(allocation_reader_conformance, sqlite_harness);
TEST_SUITE_END();
