// allocation — tests of allocation/domain/types.hpp.
// SPDX-License-Identifier: MIT
#include <allocation/domain/types.hpp>

#include <doctest/doctest.h>

#include <string>
#include <type_traits>

using namespace allocation;

TEST_SUITE("domain") {
TEST_CASE("identifiers of different kinds cannot be mixed up") {
    static_assert(!std::is_convertible_v<sku, batch_ref>);
    static_assert(!std::is_convertible_v<std::string, sku>);
    CHECK(sku{"A"} < sku{"B"});
    CHECK(fmt::format("{}", order_id{"o-1"}) == "o-1");
}

TEST_CASE("an identifier is 1 to 255 bytes of UTF-8 without control characters") {
    CHECK(is_valid_identifier("RED-CHAIR"));
    CHECK(is_valid_identifier("chaise-rouge-\xc3\xa9t\xc3\xa9"));
    CHECK(is_valid_identifier(std::string(255, 'x')));
    CHECK_FALSE(is_valid_identifier(""));
    CHECK_FALSE(is_valid_identifier(std::string(256, 'x')));
    CHECK_FALSE(is_valid_identifier("tab\there"));
    CHECK_FALSE(is_valid_identifier(std::string_view("nul\0byte", 8)));
    CHECK_FALSE(is_valid_identifier("\xc3"));          // truncated sequence
    CHECK_FALSE(is_valid_identifier("\xc0\xaf"));      // overlong encoding
    CHECK_FALSE(is_valid_identifier("\xed\xa0\x80"));  // surrogate
    CHECK_FALSE(is_valid_identifier("\xc2\x85"));      // C1 control
}

TEST_CASE("a decimal quantity counts fractions of a unit and prints its fraction digits") {
    using kilograms = basic_quantity<1000>;
    CHECK(kilograms{1250} + kilograms{750} == kilograms{2000});
    CHECK(fmt::format("{}", kilograms{1250}) == "1.250");
    CHECK(fmt::format("{}", kilograms{-5}) == "-0.005");
    CHECK(fmt::format("{}", basic_quantity<100>{12345}) == "123.45");
    CHECK(fmt::format("{:>4}", quantity{7}) == "   7");
}

TEST_CASE("dates print as ISO 8601 days") {
    CHECK(fmt::format("{}", date{std::chrono::year{2026}, std::chrono::month{3}, std::chrono::day{4}}) == "2026-03-04");
}
}
