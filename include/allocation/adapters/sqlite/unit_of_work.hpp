// allocation — SQLite adapter: the unit of work, changes made on held products in memory and
// written in one transaction (grouped with concurrent commits of the same store) at commit.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_SQLITE_UNIT_OF_WORK_HPP
#define ALLOCATION_ADAPTERS_SQLITE_UNIT_OF_WORK_HPP

#include <allocation/adapters/common/slot_unit_of_work.hpp>
#include <allocation/adapters/sqlite/repository.hpp>
#include <allocation/adapters/sqlite/store.hpp>
#include <allocation/ports/inbox.hpp>
#include <allocation/ports/unit_of_work.hpp>

namespace allocation::sqlite {

/// A unit of work over an SQLite store (see allocation::detail::slot_unit_of_work): commit()
/// writes what changed, or fails changing nothing; rollback() (also on destruction without
/// commit) undoes the changes exactly. It can be used again after either. It has an inbox
/// (records_processed_messages).
template <class Product>
using basic_unit_of_work = allocation::detail::slot_unit_of_work<basic_store<Product>>;
using unit_of_work = basic_unit_of_work<allocation::product>;

static_assert(allocation::unit_of_work<unit_of_work>);
static_assert(allocation::records_processed_messages<unit_of_work>);

}  // namespace allocation::sqlite

#endif  // ALLOCATION_ADAPTERS_SQLITE_UNIT_OF_WORK_HPP
