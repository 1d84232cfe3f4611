// allocation — the UnitOfWork port: one atomic change over the repository.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_PORTS_UNIT_OF_WORK_HPP
#define ALLOCATION_PORTS_UNIT_OF_WORK_HPP

#include <concepts>     // same_as
#include <type_traits>  // remove_cvref_t
#include <vector>       // vector

#include <allocation/error.hpp>
#include <allocation/ports/repository.hpp>

namespace allocation {

/// `uow.products()` is a repository.
template <class U>
concept has_repository = requires(U& uow) {
    requires repository<std::remove_cvref_t<decltype(uow.products())>>;
};

/// The repository type of a unit of work.
template <has_repository U>
using repository_t = std::remove_cvref_t<decltype(std::declval<U&>().products())>;

/// The product type of a unit of work.
template <has_repository U>
using product_t = typename repository_t<U>::product_type;

/// `uow.commit()` makes the changes durable and visible, or fails changing nothing (errc::conflict
/// when another writer changed a product first).
template <class U>
concept commits = requires(U& uow) {
    { uow.commit() } -> std::same_as<result<void>>;
};

/// `uow.rollback()` discards what was not committed; it cannot fail.
template <class U>
concept rolls_back = requires(U& uow) {
    { uow.rollback() } noexcept;
};

/// `uow.collect_new_events()` takes the events of the changes committed so far, once.
template <class U>
concept collects_events = has_repository<U> && requires(U& uow) {
    { uow.collect_new_events() } -> std::same_as<std::vector<typename product_t<U>::event_type>>;
};

/// A unit of work: scoped access to the repository, committed as a whole or not at all. One
/// that is destroyed without commit() rolls back.
template <class U>
concept unit_of_work = has_repository<U> && commits<U> && rolls_back<U> && collects_events<U>;

/// Something that starts units of work: `store.begin()`. Its units of work may run on several
/// threads at once.
template <class S>
concept unit_of_work_factory = requires(S& store) {
    { store.begin() } -> unit_of_work;
};

/// The unit of work type a factory starts.
template <unit_of_work_factory S>
using unit_of_work_t = decltype(std::declval<S&>().begin());

/// Optional: `store.skus_with_holds_due(now)` lists the SKUs of the products that have a hold
/// not swept yet whose deadline is at or before `now` (it may list more), for a sweep of every
/// product (commands::basic_expire_holds with no SKUs). Every store of the library models it.
template <class S>
concept lists_holding_products = unit_of_work_factory<S> && requires(S& store, timestamp now) {
    { store.skus_with_holds_due(now) } -> std::same_as<result<std::vector<typename product_t<unit_of_work_t<S>>::sku_type>>>;
};

}  // namespace allocation

#endif  // ALLOCATION_PORTS_UNIT_OF_WORK_HPP
