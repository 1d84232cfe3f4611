// allocation tests — SQLite database files for the sqlite module's tests: a fresh path, and a
// store opened on it.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_TESTS_ADAPTERS_SQLITE_FILES_HPP
#define ALLOCATION_TESTS_ADAPTERS_SQLITE_FILES_HPP

#include <filesystem>  // absolute, remove
#include <memory>      // unique_ptr
#include <string>      // string

#include <doctest/doctest.h>

#include <allocation/adapters/sqlite/store.hpp>

namespace allocation::testing::sqlite {

/// The absolute path of `name` in the working directory, with no database there (nor its WAL).
inline auto fresh(const std::string& name) -> std::string {
    const auto path = std::filesystem::absolute(name).string();
    for (const auto* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    return path;
}

/// A store on `path`, synchronous=NORMAL (the tests do not need an fsync per commit).
template <class Store = allocation::sqlite::store>
auto open(const std::string& path) -> std::unique_ptr<Store> {
    allocation::sqlite::options o;
    o.durability = allocation::sqlite::durability::normal;
    auto s = Store::open(path, o);
    REQUIRE(s);
    return std::move(s).value();
}

}  // namespace allocation::testing::sqlite

#endif  // ALLOCATION_TESTS_ADAPTERS_SQLITE_FILES_HPP
