// allocation — tests of allocation/version.hpp.
// SPDX-License-Identifier: MIT
#include <allocation/version.hpp>

#include <doctest/doctest.h>
#include <fmt/format.h>

TEST_SUITE("core") {
    TEST_CASE("the version string matches the version macros") {
        CHECK(allocation::version_string == fmt::format("{}.{}.{}", ALLOCATION_VERSION_MAJOR,
                                                        ALLOCATION_VERSION_MINOR,
                                                        ALLOCATION_VERSION_PATCH));
    }
}
