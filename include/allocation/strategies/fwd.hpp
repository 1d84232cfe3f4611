// allocation — forward declarations of the shipped strategies; their default template arguments
// live here only.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_STRATEGIES_FWD_HPP
#define ALLOCATION_STRATEGIES_FWD_HPP

namespace allocation {

struct warehouse_first;
struct fifo;
struct best_fit;
struct system_calendar;

template <class Calendar = system_calendar>
struct basic_fefo;

using fefo = basic_fefo<>;

}  // namespace allocation

#endif  // ALLOCATION_STRATEGIES_FWD_HPP
