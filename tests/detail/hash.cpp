// allocation — tests of allocation/detail/hash.hpp: the line table's identifier hash.
// SPDX-License-Identifier: MIT
#include <allocation/detail/hash.hpp>
#include <allocation/domain/types.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <set>
#include <string>

using allocation::detail::hash_bytes;

TEST_SUITE("detail") {
TEST_CASE("the identifier hash depends on every byte and on the length") {
    std::set<std::uint64_t> seen;
    std::size_t made = 0;
    for (std::size_t length = 0; length <= 40; ++length) {
        const std::string base(length, 'a');
        seen.insert(hash_bytes(base));
        ++made;
        for (std::size_t at = 0; at < length; ++at) {
            auto text = base;
            text[at] = 'b';
            seen.insert(hash_bytes(text));
            ++made;
        }
    }
    CHECK(seen.size() == made);
}

TEST_CASE("order ids that differ in their last digits spread over the high bits") {
    // The flat map takes its bucket from the high bits of (hash * odd constant).
    std::set<std::uint64_t> buckets;
    for (int i = 0; i < 4096; ++i) {
        const auto h = hash_bytes(fmt::format("order-{:07}", i)) * 0x9e3779b97f4a7c15ULL;
        buckets.insert(h >> 52);  // 4096 buckets
    }
    CHECK(buckets.size() > 2'400);  // a random function fills ~63%
}

TEST_CASE("the line table hashes the library's identifiers by their text and other keys with std::hash") {
    const allocation::detail::id_hash<allocation::order_id> by_text;
    CHECK(by_text(allocation::order_id{"o-1"}) == hash_bytes("o-1"));
    const allocation::detail::id_hash<std::uint64_t> by_std;
    CHECK(by_std(42U) == std::hash<std::uint64_t>{}(42U));
}
}
