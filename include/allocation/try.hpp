// allocation — early return on a failed result: ALLOCATION_TRY and ALLOCATION_TRYV.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_TRY_HPP
#define ALLOCATION_TRY_HPP

#include <boost/outcome/try.hpp>
#include <boost/version.hpp>

/// `ALLOCATION_TRY(name, expr)`: evaluates `expr` (a result); on error returns it from the
/// enclosing function, else binds its value to `name`.
#if BOOST_VERSION >= 107600
#define ALLOCATION_TRY(name, ...) BOOST_OUTCOME_TRY(auto&& name, __VA_ARGS__)
#else
#define ALLOCATION_TRY(name, ...) BOOST_OUTCOME_TRY(name, __VA_ARGS__)
#endif

/// `ALLOCATION_TRYV(expr)`: evaluates `expr` (a result); on error returns it.
#define ALLOCATION_TRYV(...) BOOST_OUTCOME_TRYV(__VA_ARGS__)

#endif  // ALLOCATION_TRY_HPP
