// allocation — forward declarations; the default template arguments live here only.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_FWD_HPP
#define ALLOCATION_FWD_HPP

#include <allocation/domain/types.hpp>

namespace allocation {

struct warehouse_first;

template <class Traits = default_traits>
class basic_batch;

template <class Strategy = warehouse_first, class Traits = default_traits>
class basic_product;

using batch = basic_batch<>;
using product = basic_product<>;

}  // namespace allocation

#endif  // ALLOCATION_FWD_HPP
