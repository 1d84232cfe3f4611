// allocation — the in-memory repository: products of a memory store, each held by one unit of
// work at a time (the slot repository every slot store shares).
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_MEMORY_REPOSITORY_HPP
#define ALLOCATION_ADAPTERS_MEMORY_REPOSITORY_HPP

#include <allocation/adapters/common/slot_repository.hpp>
#include <allocation/adapters/memory/store.hpp>
#include <allocation/ports/repository.hpp>

namespace allocation::memory {

/// The repository of a memory unit of work (see allocation::detail::slot_repository).
template <class Product>
using basic_repository = allocation::detail::slot_repository<basic_store<Product>>;
using repository = basic_repository<allocation::product>;

static_assert(allocation::repository<repository>);

}  // namespace allocation::memory

#endif  // ALLOCATION_ADAPTERS_MEMORY_REPOSITORY_HPP
