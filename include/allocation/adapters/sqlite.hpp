// allocation — the SQLite reference adapter, all of it: store, repository and unit of work,
// reader, outbox and relay. Link allocation::sqlite.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_SQLITE_HPP
#define ALLOCATION_ADAPTERS_SQLITE_HPP

#include <allocation/adapters/sqlite/outbox.hpp>
#include <allocation/adapters/sqlite/reader.hpp>
#include <allocation/adapters/sqlite/repository.hpp>
#include <allocation/adapters/sqlite/schema.hpp>
#include <allocation/adapters/sqlite/store.hpp>
#include <allocation/adapters/sqlite/unit_of_work.hpp>

#endif  // ALLOCATION_ADAPTERS_SQLITE_HPP
