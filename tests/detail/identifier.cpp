// allocation — tests of allocation/detail/identifier.hpp: the fast identifier check gives the
// answer of is_valid_identifier on every input tried.
// SPDX-License-Identifier: MIT
#include <allocation/detail/identifier.hpp>

#include <doctest/doctest.h>

#include <random>
#include <string>

using allocation::is_valid_identifier;
using allocation::detail::is_valid_identifier_fast;

TEST_SUITE("detail") {
TEST_CASE("the fast identifier check agrees with is_valid_identifier on every string of 1 or 2 bytes") {
    int disagreements = 0;
    for (int a = 0; a < 256; ++a) {
        const std::string one(1, static_cast<char>(a));
        disagreements += is_valid_identifier_fast(one) != is_valid_identifier(one) ? 1 : 0;
        for (int b = 0; b < 256; ++b) {
            const std::string two{static_cast<char>(a), static_cast<char>(b)};
            disagreements += is_valid_identifier_fast(two) != is_valid_identifier(two) ? 1 : 0;
        }
    }
    CHECK(disagreements == 0);
}

TEST_CASE("the fast identifier check agrees with is_valid_identifier for any byte at any place") {
    int disagreements = 0;
    for (std::size_t length = 1; length <= 40; ++length) {
        for (std::size_t at = 0; at < length; ++at) {
            for (int byte = 0; byte < 256; ++byte) {
                std::string text(length, 'a');
                text[at] = static_cast<char>(byte);
                disagreements += is_valid_identifier_fast(text) != is_valid_identifier(text) ? 1 : 0;
            }
        }
    }
    CHECK(disagreements == 0);
    CHECK_FALSE(is_valid_identifier_fast(""));
    CHECK(is_valid_identifier_fast(std::string(255, '~')));
    CHECK_FALSE(is_valid_identifier_fast(std::string(256, 'x')));
    CHECK(is_valid_identifier_fast("chaise-rouge-\xc3\xa9t\xc3\xa9"));
    CHECK_FALSE(is_valid_identifier_fast("order-\x7f"));
    CHECK_FALSE(is_valid_identifier_fast("order-1\xc2\x85"));  // C1 control after ASCII
}

TEST_CASE("the fast identifier check agrees with is_valid_identifier on random text") {
    // Bytes drawn from the edges of each class: controls, DEL, ASCII, UTF-8 leads and tails.
    const unsigned char pool[] = {0x00, 0x1f, 0x20, 0x41, 0x7e, 0x7f, 0x80, 0x85, 0x9f, 0xa0, 0xbf, 0xc0,
                                  0xc2, 0xc3, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff};
    std::mt19937_64 rng{20261126};
    int disagreements = 0;
    for (int i = 0; i < 200'000; ++i) {
        std::string text(1 + rng() % 24, 'a');
        for (auto& c : text) {
            if (rng() % 3 == 0) c = static_cast<char>(pool[rng() % sizeof pool]);
        }
        disagreements += is_valid_identifier_fast(text) != is_valid_identifier(text) ? 1 : 0;
    }
    CHECK(disagreements == 0);
}
}
