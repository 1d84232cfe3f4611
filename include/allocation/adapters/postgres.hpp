// allocation — the PostgreSQL adapter, all of it: store, repository and unit of work, reader,
// outbox and relay, allocations read model. Link allocation::postgres (libpqxx, libpq).
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_POSTGRES_HPP
#define ALLOCATION_ADAPTERS_POSTGRES_HPP

#include <allocation/adapters/postgres/grouped_store.hpp>
#include <allocation/adapters/postgres/outbox.hpp>
#include <allocation/adapters/postgres/reader.hpp>
#include <allocation/adapters/postgres/repository.hpp>
#include <allocation/adapters/postgres/schema.hpp>
#include <allocation/adapters/postgres/store.hpp>
#include <allocation/adapters/postgres/unit_of_work.hpp>

#endif  // ALLOCATION_ADAPTERS_POSTGRES_HPP
