// allocation — a consumer program: includes the library as a user would and prints its version.
// SPDX-License-Identifier: MIT
#if __has_include(<allocation/allocation.hpp>)
#include <allocation/allocation.hpp>
#endif
#include <allocation/version.hpp>

#include <fmt/core.h>

int main() {
    fmt::print("allocation {}\n", allocation::version_string);
    return 0;
}
