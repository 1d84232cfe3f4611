// allocation tests — what a product raised: the events of one type, their number, the last one.
// Shared by the domain tests.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_TESTS_DOMAIN_EVENT_CHECKS_HPP
#define ALLOCATION_TESTS_DOMAIN_EVENT_CHECKS_HPP

#include <cstddef>
#include <variant>
#include <vector>

#include <doctest/doctest.h>

namespace checks {

/// The events of type Event a product raised and still has, oldest first.
template <class Event, class Product>
auto all_events(const Product& p) -> std::vector<Event> {
    std::vector<Event> out;
    for (const auto& e : p.events()) {
        if (const auto* x = std::get_if<Event>(&e)) out.push_back(*x);
    }
    return out;
}

/// How many events of type Event a product raised and still has.
template <class Event, class Product>
auto count_events(const Product& p) -> std::size_t {
    return all_events<Event>(p).size();
}

/// The most recent event of type Event a product has; fails the test when there is none.
template <class Event, class Product>
auto last_event(const Product& p) -> Event {
    const auto all = all_events<Event>(p);
    if (all.empty()) FAIL("no such event");
    return all.empty() ? Event{} : all.back();
}

}  // namespace checks

#endif  // ALLOCATION_TESTS_DOMAIN_EVENT_CHECKS_HPP
