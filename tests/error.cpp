// allocation — tests of allocation/error.hpp and allocation/try.hpp.
// SPDX-License-Identifier: MIT
#include <allocation/error.hpp>
#include <allocation/try.hpp>

#include <doctest/doctest.h>

#include <string>
#include <system_error>

using namespace allocation;

namespace {
auto half(int n) -> result<int> {
    if (n % 2 != 0) return errc::invalid_quantity;
    return n / 2;
}
auto quarter(int n) -> result<int> {
    ALLOCATION_TRY(h, half(n));
    return half(h);
}
}  // namespace

TEST_SUITE("core") {
TEST_CASE("library errors are std::error_codes of the allocation category with readable messages") {
    const std::error_code ec = errc::invalid_sku;
    CHECK(ec.category().name() == std::string("allocation"));
    CHECK(ec.message() == "unknown SKU");
    CHECK(ec == errc::invalid_sku);
    CHECK(ec != errc::out_of_stock);
    for (int code = 1; code <= static_cast<int>(errc::not_backordered); ++code) {
        CHECK(make_error_code(static_cast<errc>(code)).message().rfind("allocation error", 0) != 0);
    }
}

TEST_CASE("ALLOCATION_TRY returns the first error and passes values on") {
    CHECK(quarter(8).value() == 2);
    CHECK(quarter(6).error() == errc::invalid_quantity);
    CHECK(quarter(3).error() == errc::invalid_quantity);
}
}
