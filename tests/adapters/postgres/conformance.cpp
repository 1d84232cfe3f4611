// allocation tests — the adapter conformance kit run on the PostgreSQL store.
// SPDX-License-Identifier: MIT
#include <chrono>  // milliseconds
#include <memory>  // unique_ptr, make_unique
#include <string>  // string

#include <doctest/doctest.h>

#include <allocation/adapters/postgres.hpp>
#include <allocation/testing/conformance.hpp>

#include "adapters/postgres/server.hpp"

namespace {

// A fresh schema on the test server per test; units of work fail at once on a product held by
// another (FOR UPDATE NOWAIT). reopen() opens a second store on the schema, as another process
// or a restart would.
struct postgres_harness {
    using store_type = allocation::postgres::store;
    static auto settings() -> allocation::postgres::options { return {.lock_timeout = std::chrono::milliseconds{0}}; }
    auto make() -> std::unique_ptr<store_type> {
        std::string error;
        auto s = store_type::open(schema.url(), settings(), &error);
        INFO(error);
        REQUIRE(s);
        return std::move(s).value();
    }
    auto reopen(store_type& s) -> std::unique_ptr<store_type> {
        std::string error;
        auto again = store_type::open(s.url(), settings(), &error);
        INFO(error);
        REQUIRE(again);
        return std::move(again).value();
    }
    allocation::testing::postgres::scratch_schema schema;
};

}  // namespace

TEST_SUITE_BEGIN("postgres");
TEST_CASE_TEMPLATE_INVOKE(allocation_repository_conformance, postgres_harness);
TEST_CASE_TEMPLATE_INVOKE(allocation_unit_of_work_conformance, postgres_harness);
TEST_CASE_TEMPLATE_INVOKE(allocation_idempotency_conformance, postgres_harness);
TEST_CASE_TEMPLATE_INVOKE(allocation_concurrency_conformance, postgres_harness);
TEST_CASE_TEMPLATE_INVOKE(allocation_reader_conformance, postgres_harness);
TEST_SUITE_END();
