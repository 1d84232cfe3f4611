// allocation — must not compile: a handler given a unit of work whose rollback() may throw.
// SPDX-License-Identifier: MIT
// expect-error: rolls_back
#include <allocation/allocation.hpp>

namespace {
struct throwing_unit_of_work {
    allocation::memory::store store;
    allocation::memory::unit_of_work inner{store};
    auto products() -> allocation::memory::repository& { return inner.products(); }
    auto commit() -> allocation::result<void> { return inner.commit(); }
    void rollback() { inner.rollback(); }  // not noexcept
    auto collect_new_events() -> std::vector<allocation::events::event> { return inner.collect_new_events(); }
};
}  // namespace

int main() {
    throwing_unit_of_work uow;
    (void)allocation::handlers::allocate(
        allocation::commands::allocate{allocation::order_id{"o1"}, allocation::sku{"LAMP"}, allocation::quantity{1}}, uow);
}
