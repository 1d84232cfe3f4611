// Tests of examples/service/idempotency.hpp: replaying the first answer to an Idempotency-Key.
// SPDX-License-Identifier: MIT
#include "idempotency.hpp"

#include <atomic>
#include <chrono>
#include <thread>

#include <allocation/adapters/sqlite.hpp>
#include <doctest/doctest.h>

#include "process.hpp"

using namespace allocation::service;
using kind = idempotency_claim::kind;

TEST_SUITE("service") {

TEST_CASE("the first request under a key proceeds and its answer is replayed to the same request") {
    memory_idempotency_store store;
    CHECK(store.claim("k", "POST /allocate\n{}").outcome == kind::proceed);
    store.complete("k", {202, R"({"batchref":"b1"})"});
    const auto again = store.claim("k", "POST /allocate\n{}");
    CHECK(again.outcome == kind::replay);
    CHECK(again.response == stored_response{202, R"({"batchref":"b1"})"});
}

TEST_CASE("another request under a used key is a mismatch") {
    memory_idempotency_store store;
    REQUIRE(store.claim("k", "a").outcome == kind::proceed);
    store.complete("k", {202, "{}"});
    CHECK(store.claim("k", "b").outcome == kind::mismatch);
}

TEST_CASE("an abandoned key can be claimed again") {
    memory_idempotency_store store;
    REQUIRE(store.claim("k", "a").outcome == kind::proceed);
    store.abandon("k");
    CHECK(store.claim("k", "a").outcome == kind::proceed);
}

TEST_CASE("a second request under a key in flight waits for the first answer") {
    memory_idempotency_store store;
    REQUIRE(store.claim("k", "a").outcome == kind::proceed);
    std::atomic<bool> answered{false};
    std::thread second([&] {
        const auto c = store.claim("k", "a");
        CHECK(answered.load());
        CHECK(c.outcome == kind::replay);
        CHECK(c.response.status == 201);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    answered = true;
    store.complete("k", {201, "{}"});
    second.join();
}

TEST_CASE("the oldest answered keys are forgotten beyond the capacity") {
    memory_idempotency_store store(2);
    for (const char* key : {"a", "b", "c"}) {
        REQUIRE(store.claim(key, "x").outcome == kind::proceed);
        store.complete(key, {200, key});
    }
    CHECK(store.claim("c", "x").outcome == kind::replay);
    CHECK(store.claim("b", "x").outcome == kind::replay);
    CHECK(store.claim("a", "x").outcome == kind::proceed);
}

TEST_CASE("a fingerprint of a body the API refuses is its bytes, however deeply it is nested") {
    const std::string deep(400'000, '[');
    CHECK(request_fingerprint("POST", "/allocate", deep) == "POST /allocate\n" + deep);
    const std::string closed = std::string(100'000, '[') + std::string(100'000, ']');
    CHECK(request_fingerprint("POST", "/allocate", closed) == "POST /allocate\n" + closed);
    CHECK(request_fingerprint("POST", "/allocate", R"({"a":1,"a":2})") != request_fingerprint("POST", "/allocate", R"({"a":2})"));
}

TEST_CASE("a fingerprint ignores JSON whitespace and key order but not the path") {
    CHECK(request_fingerprint("POST", "/allocate", R"({"a":1,"b":2})") ==
          request_fingerprint("POST", "/allocate", "{ \"b\": 2,\n \"a\": 1 }"));
    CHECK(request_fingerprint("POST", "/allocate", "{}") != request_fingerprint("POST", "/orders", "{}"));
    CHECK(request_fingerprint("POST", "/allocate", "not json") != request_fingerprint("POST", "/allocate", "not  json"));
}

TEST_CASE("answers kept in the database are replayed by a store opened later, and another request is a mismatch") {
    const allocation::test::temp_dir dir;
    const auto path = (dir.path() / "keys.db").string();
    const std::string big_body(100'000, 'x');  // kept as a digest, still told apart
    {
        auto db = allocation::sqlite::store::open(path).value();
        allocation::sqlite::idempotency_keys answers(*db);
        durable_idempotency_store keys(answers);
        REQUIRE(keys.claim("k", "POST /allocate\n{}").outcome == kind::proceed);
        CHECK(keys.complete("k", {202, R"({"batchref":"b1"})"}) == stored_response{202, R"({"batchref":"b1"})"});
        REQUIRE(keys.claim("big", big_body).outcome == kind::proceed);
        (void)keys.complete("big", {201, "{}"});
        REQUIRE(keys.claim("dropped", "a").outcome == kind::proceed);
        keys.abandon("dropped");
    }
    auto db = allocation::sqlite::store::open(path).value();
    allocation::sqlite::idempotency_keys answers(*db);
    durable_idempotency_store keys(answers);
    const auto again = keys.claim("k", "POST /allocate\n{}");
    CHECK(again.outcome == kind::replay);
    CHECK(again.response == stored_response{202, R"({"batchref":"b1"})"});
    CHECK(keys.claim("k", "POST /allocate\n{\"a\":1}").outcome == kind::mismatch);
    CHECK(keys.claim("big", big_body).outcome == kind::replay);
    CHECK(keys.claim("big", big_body + "y").outcome == kind::mismatch);
    CHECK(keys.claim("dropped", "a").outcome == kind::proceed);
}

TEST_CASE("when another process answered a key first, its answer is the one sent") {
    auto db = allocation::sqlite::store::open(":memory:").value();
    allocation::sqlite::idempotency_keys answers(*db);
    durable_idempotency_store keys(answers);
    REQUIRE(keys.claim("k", "a").outcome == kind::proceed);
    REQUIRE(answers.save("k", fingerprint_digest("a"), 202, "first").value());  // the other process
    CHECK(keys.complete("k", {202, "second"}) == stored_response{202, "first"});
}

TEST_CASE("a second request under a key in flight in the database store waits for the first answer") {
    auto db = allocation::sqlite::store::open(":memory:").value();
    allocation::sqlite::idempotency_keys answers(*db);
    durable_idempotency_store keys(answers);
    REQUIRE(keys.claim("k", "a").outcome == kind::proceed);
    std::atomic<bool> answered{false};
    std::thread second([&] {
        const auto c = keys.claim("k", "a");
        CHECK(answered.load());
        CHECK(c.outcome == kind::replay);
        CHECK(c.response.status == 201);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    answered = true;
    (void)keys.complete("k", {201, "{}"});
    second.join();
}

}  // TEST_SUITE
