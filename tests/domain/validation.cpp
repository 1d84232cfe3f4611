// allocation — tests of allocation/domain/validation.hpp: the one place identifiers and
// quantities are judged.
// SPDX-License-Identifier: MIT
#include <allocation/domain/validation.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "domain/integer_traits.hpp"

using namespace allocation;

TEST_SUITE("domain") {
TEST_CASE("quantities of a line are 1 to 2^31-1, of a batch 0 to 2^31-1") {
    CHECK(is_valid_line_quantity(quantity{1}));
    CHECK(is_valid_line_quantity(quantity{max_quantity}));
    CHECK_FALSE(is_valid_line_quantity(quantity{0}));
    CHECK_FALSE(is_valid_line_quantity(quantity{max_quantity + 1}));
    CHECK(is_valid_batch_quantity(quantity{0}));
    CHECK_FALSE(is_valid_batch_quantity(quantity{-1}));
}

TEST_CASE("the quantity bound of user traits is the one they give") {
    using t = erp::integer_traits;
    CHECK(is_valid_line_quantity<t>(erp::qty(0, 1)));
    CHECK(is_valid_line_quantity<t>(erp::qty(1'000'000'000)));
    CHECK_FALSE(is_valid_line_quantity<t>(erp::qty(1'000'000'000, 1)));
    CHECK_FALSE(is_valid_line_quantity<t>(erp::qty(0)));
    CHECK(is_valid_batch_quantity<t>(erp::qty(0)));
    CHECK(validate::batch_quantity<t>(erp::qty(0, -1)).error() == errc::invalid_quantity);
}

TEST_CASE("identifiers are judged by their traits' rule, their own is_valid or their kind") {
    CHECK(is_valid_id<default_traits>(sku{"LAMP"}));
    CHECK_FALSE(is_valid_id<default_traits>(order_id{""}));
    CHECK_FALSE(is_valid_id<default_traits>(batch_ref{"b\n1"}));
    CHECK(is_valid_id<erp::integer_traits>(std::int64_t{1}));
    CHECK_FALSE(is_valid_id<erp::integer_traits>(std::int64_t{0}));
    CHECK_FALSE(is_valid_id<erp::integer_traits>(std::int64_t{-42}));
    CHECK(is_valid_id<default_traits>(std::string("b1")));
    CHECK_FALSE(is_valid_id<default_traits>(std::string(256, 'x')));
    CHECK(validate::identifier<default_traits>(sku{""}).error() == errc::invalid_identifier);
    CHECK(validate::identifier_text("o-1"));
    CHECK(validate::identifier_text("o\x01").error() == errc::invalid_identifier);
}
}
