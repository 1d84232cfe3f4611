// allocation — the library version, as macros for the preprocessor and as a string.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_VERSION_HPP
#define ALLOCATION_VERSION_HPP

#include <string_view>  // string_view

/// Major version: changes break the API.
#define ALLOCATION_VERSION_MAJOR 0
/// Minor version: additions that keep the API.
#define ALLOCATION_VERSION_MINOR 1
/// Patch version: fixes only.
#define ALLOCATION_VERSION_PATCH 0

namespace allocation {

/// The version as "MAJOR.MINOR.PATCH"; the same numbers as the ALLOCATION_VERSION_* macros.
inline constexpr std::string_view version_string = "0.1.0";

}  // namespace allocation

#endif  // ALLOCATION_VERSION_HPP
