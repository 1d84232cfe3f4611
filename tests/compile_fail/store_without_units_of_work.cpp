// allocation — must not compile: a message bus over a store whose begin() does not start a
// unit of work.
// SPDX-License-Identifier: MIT
// expect-error: unit_of_work_factory
#include <allocation/allocation.hpp>

namespace {
struct session {
    void commit() {}
};
struct database {
    auto begin() -> session { return {}; }
};
}  // namespace

int main() {
    database db;
    auto bus = allocation::bootstrap(db);
    (void)bus;
}
