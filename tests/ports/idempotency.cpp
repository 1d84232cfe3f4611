// Tests of allocation/ports/idempotency.hpp: the record the durable idempotency-key stores keep.
// SPDX-License-Identifier: MIT
#include <allocation/ports/idempotency.hpp>

#include <doctest/doctest.h>

using allocation::idempotency_record;

TEST_SUITE("ports") {
    TEST_CASE("idempotency records are equal when fingerprint, status and body are") {
        const idempotency_record kept{"hash-a", 202, R"({"batchref":"b1"})"};
        CHECK(kept == idempotency_record{"hash-a", 202, R"({"batchref":"b1"})"});
        SUBCASE("another fingerprint") { CHECK_FALSE(kept == idempotency_record{"hash-b", 202, kept.body}); }
        SUBCASE("another status") { CHECK_FALSE(kept == idempotency_record{kept.fingerprint, 409, kept.body}); }
        SUBCASE("another body") { CHECK_FALSE(kept == idempotency_record{kept.fingerprint, 202, "{}"}); }
    }
    TEST_CASE("an idempotency record starts empty with status 0") {
        const idempotency_record r;
        CHECK(r.fingerprint.empty());
        CHECK(r.status == 0);
        CHECK(r.body.empty());
    }
}
