// allocation — SQLite adapter: the repository, products of the store's cache each held by one
// unit of work at a time (the slot repository every slot store shares).
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_SQLITE_REPOSITORY_HPP
#define ALLOCATION_ADAPTERS_SQLITE_REPOSITORY_HPP

#include <allocation/adapters/common/slot_repository.hpp>
#include <allocation/adapters/sqlite/store.hpp>
#include <allocation/ports/repository.hpp>

namespace allocation::sqlite {

/// The repository of an SQLite unit of work (see allocation::detail::slot_repository): get()
/// holds the product's slot in this store, checks its version in the database and reloads it
/// only when another process changed it.
template <class Product>
using basic_repository = allocation::detail::slot_repository<basic_store<Product>>;
using repository = basic_repository<allocation::product>;

static_assert(allocation::repository<repository>);

}  // namespace allocation::sqlite

#endif  // ALLOCATION_ADAPTERS_SQLITE_REPOSITORY_HPP
