// allocation tests — Idempotency-Key answers kept in PostgreSQL.
// SPDX-License-Identifier: MIT
#include <optional>  // optional

#include <doctest/doctest.h>

#include <allocation/adapters/postgres/idempotency.hpp>

#include "adapters/postgres/server.hpp"

using namespace allocation;
using allocation::testing::postgres::fresh_store;

TEST_SUITE("postgres") {

TEST_CASE("the first answer kept under an idempotency key wins, in every store on the database") {
    fresh_store db;
    postgres::idempotency_keys keys(db.store);
    CHECK(keys.find("k1").value() == std::nullopt);
    CHECK(keys.save("k1", "POST /allocate {}", 202, R"({"batchref":"b1"})").value());
    postgres::store other_process(db.schema.url());
    postgres::idempotency_keys other(other_process);
    CHECK_FALSE(other.save("k1", "POST /allocate {}", 409, "{}").value());
    CHECK(other.find("k1").value() == postgres::idempotency_record{"POST /allocate {}", 202, R"({"batchref":"b1"})"});
    SUBCASE("an erased key is new again") {
        REQUIRE(keys.erase("k1"));
        CHECK(other.find("k1").value() == std::nullopt);
    }
    SUBCASE("keys and bodies are stored as given, quotes included") {
        CHECK(keys.save("it's", "fp'", 201, "body with 'quotes' and \\ backslash").value());
        CHECK(other.find("it's").value()->body == "body with 'quotes' and \\ backslash");
    }
}

}  // TEST_SUITE
