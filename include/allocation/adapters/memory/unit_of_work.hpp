// allocation — the in-memory unit of work: real rollback, safe on several threads.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_MEMORY_UNIT_OF_WORK_HPP
#define ALLOCATION_ADAPTERS_MEMORY_UNIT_OF_WORK_HPP

#include <allocation/adapters/common/slot_unit_of_work.hpp>
#include <allocation/adapters/memory/repository.hpp>
#include <allocation/adapters/memory/store.hpp>
#include <allocation/ports/unit_of_work.hpp>

namespace allocation::memory {

/// A unit of work over a memory store. Products it gets are changed in place and held; commit()
/// keeps the changes and publishes the new products and batch references, rollback() (also on
/// destruction without commit) undoes them exactly. It can be used again after either. See
/// allocation::detail::slot_unit_of_work.
template <class Product>
using basic_unit_of_work = allocation::detail::slot_unit_of_work<basic_store<Product>>;
using unit_of_work = basic_unit_of_work<allocation::product>;

static_assert(allocation::unit_of_work<unit_of_work>);

}  // namespace allocation::memory

#endif  // ALLOCATION_ADAPTERS_MEMORY_UNIT_OF_WORK_HPP
