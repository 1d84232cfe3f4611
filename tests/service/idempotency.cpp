// Tests of examples/service/idempotency.hpp: how a request under an Idempotency-Key is named in
// the library's inbox (message id and fingerprint).
// SPDX-License-Identifier: MIT
#include "idempotency.hpp"

#include <string>

#include <allocation/domain/validation.hpp>
#include <doctest/doctest.h>

namespace idempotency_tests {

using namespace allocation::service;

TEST_SUITE("service") {

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

TEST_CASE("a digest is short printable text that tells large requests apart") {
    const std::string big(1'000'000, 'x');
    const auto d = fingerprint_digest(big);
    CHECK(d.size() < 64);
    CHECK(allocation::validate::identifier_text(d));
    CHECK(d == fingerprint_digest(big));
    CHECK(d != fingerprint_digest(big + "y"));
    CHECK(fingerprint_digest("a") != fingerprint_digest("b"));
}

TEST_CASE("a request under a key is named by the key and by what it asks") {
    const auto a = idempotent("k1", "POST", "/allocate", R"({"orderid":"o1","sku":"LAMP","qty":1})");
    CHECK(a.keyed());
    CHECK(a.key == "k1");
    CHECK(a.message_id != "k1");  // a namespace of its own among the inbox's message ids
    CHECK(idempotent("k1", "POST", "/allocate", R"({ "qty": 1, "sku": "LAMP", "orderid": "o1" })").fingerprint == a.fingerprint);
    CHECK(idempotent("k1", "POST", "/allocate", R"({"orderid":"o1","sku":"LAMP","qty":2})").fingerprint != a.fingerprint);
    CHECK(idempotent("k1", "POST", "/orders", R"({"orderid":"o1","sku":"LAMP","qty":1})").fingerprint != a.fingerprint);
    CHECK(idempotent("k2", "POST", "/allocate", R"({"orderid":"o1","sku":"LAMP","qty":1})").message_id != a.message_id);
    CHECK_FALSE(idempotent_request{}.keyed());
}

}  // TEST_SUITE
}  // namespace idempotency_tests
