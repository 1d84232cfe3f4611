// allocation — the in-memory store: products shared by threads, each product held by one unit
// of work at a time, and a read model of what was committed.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_MEMORY_STORE_HPP
#define ALLOCATION_ADAPTERS_MEMORY_STORE_HPP

#include <chrono>         // milliseconds
#include <cstddef>        // size_t
#include <memory>         // unique_ptr, make_unique
#include <mutex>          // unique_lock, adopt_lock
#include <optional>       // optional
#include <shared_mutex>   // shared_mutex, shared_lock
#include <unordered_map>  // unordered_map
#include <utility>        // move, forward, as_const, pair
#include <vector>         // vector

#include <allocation/adapters/common/inbox.hpp>
#include <allocation/adapters/common/store_base.hpp>
#include <allocation/adapters/common/slot_repository.hpp>
#include <allocation/adapters/common/slot_unit_of_work.hpp>
#include <allocation/adapters/memory/reader.hpp>
#include <allocation/adapters/memory/repository.hpp>
#include <allocation/domain/product.hpp>
#include <allocation/error.hpp>
#include <allocation/ports/product_reader.hpp>
#include <allocation/ports/unit_of_work.hpp>
#include <allocation/try.hpp>

namespace allocation::memory {

/// Products in memory, shared by every unit of work started from it, on any thread.
/// A unit of work holds each product it gets exclusively until it commits or rolls back; a
/// second one waits up to `lock_timeout` for it, then fails with errc::conflict (the message bus
/// retries). Units of work that need several products must get them in SKU order, as the
/// library's handlers do, so that they cannot wait for each other. Its reads (product_reader)
/// come from a read model its commits keep, and never wait for a unit of work. The products the
/// message bus creates in it are made by its product factory (makes_products).
/// @tparam Product a basic_product.
template <class Product>
class basic_store : public allocation::detail::store_base<basic_store<Product>, Product>,
                    private detail::product_slots<Product> {
    using slots = detail::product_slots<Product>;
    using slot = typename slots::slot;

public:
    using unit_of_work_type = allocation::detail::slot_unit_of_work<basic_store>;

    explicit basic_store(std::chrono::milliseconds lock_timeout = std::chrono::seconds{1}) : slots(lock_timeout) {}
    basic_store(const basic_store&) = delete;
    auto operator=(const basic_store&) -> basic_store& = delete;

    /// Starts a unit of work.
    [[nodiscard]] auto begin() -> unit_of_work_type { return unit_of_work_type(*this); }

    /// Calls `f(const Product&)` on a committed product, holding it like a unit of work would
    /// (waiting up to the lock timeout); returns false when the SKU is unknown or the product
    /// stayed held. Prefer read_product(), which never waits.
    template <class F>
    auto read(const typename Product::sku_type& key, F&& f) -> bool {
        slot* s = this->find(key);
        if (s == nullptr) return false;
        if (!s->try_lock_for(this->lock_timeout())) return false;
        const std::unique_lock held(*s, std::adopt_lock);
        std::forward<F>(f)(std::as_const(*s->product));
        return true;
    }

    using slots::size;

private:
    friend class allocation::detail::store_base<basic_store, Product>;
    template <class>
    friend class allocation::detail::slot_repository;
    template <class>
    friend class allocation::detail::slot_unit_of_work;
    static constexpr bool drops_on_failure = false;  // the slots hold the only copy

    // The reads of committed state come from the read model.
    template <class F>
    auto reads(F&& f) {
        return std::forward<F>(f)(std::as_const(committed_));
    }

    // -- what slot_unit_of_work needs -------------------------------------------------------
    // Publishes the new products and batch references (see product_slots::publish, for its
    // errors; nothing is kept then), then the committed state in the read model.
    auto commit_changes(allocation::detail::held_products<Product>& local, allocation::detail::staged_inbox&)
        -> result<void> {
        ALLOCATION_TRYV(this->publish(local));
        for (auto* s : local.held) committed_.apply(*s->product);
        return success();
    }

    basic_read_model<Product> committed_;
};

/// The in-memory store of the default product.
using store = basic_store<allocation::product>;

static_assert(allocation::unit_of_work_factory<store>);
static_assert(allocation::repository<repository>);
static_assert(allocation::product_reader<store>);
static_assert(allocation::makes_products<store>);

}  // namespace allocation::memory

#endif  // ALLOCATION_ADAPTERS_MEMORY_STORE_HPP
