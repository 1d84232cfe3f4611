// allocation — what a durable idempotency-key store (the example service's Idempotency-Key
// header) keeps under a key; the SQLite and PostgreSQL adapters' idempotency_keys return it.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_PORTS_IDEMPOTENCY_HPP
#define ALLOCATION_PORTS_IDEMPOTENCY_HPP

#include <string>  // string

namespace allocation {

/// An answer kept under an idempotency key: the fingerprint of the request it answered (a hash
/// of its body, or the body), its status and its body.
struct idempotency_record {
    std::string fingerprint;
    int status = 0;
    std::string body;
    friend auto operator==(const idempotency_record&, const idempotency_record&) -> bool = default;
};

}  // namespace allocation

#endif  // ALLOCATION_PORTS_IDEMPOTENCY_HPP
