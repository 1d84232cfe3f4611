// allocation — a product shared by the units of work of a store, held by one of them at a time
// (the memory and SQLite stores).
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_DETAIL_PRODUCT_SLOT_HPP
#define ALLOCATION_DETAIL_PRODUCT_SLOT_HPP

#include <atomic>              // atomic
#include <chrono>              // milliseconds
#include <concepts>            // constructible_from
#include <condition_variable>  // condition_variable
#include <cstdint>             // uint64_t
#include <mutex>               // mutex, unique_lock, lock_guard
#include <utility>             // forward

namespace allocation::detail {

/// A store's place for one product: the product and whether a unit of work holds it. A unit of
/// work holds a slot from try_lock_for() (or try_lock(), lock()) to unlock(); others wait. The
/// slot is Lockable, so std::unique_lock works on it (std::adopt_lock, std::try_to_lock).
/// Built on a mutex and a condition variable rather than std::timed_mutex, whose try_lock_for
/// (pthread_mutex_clocklock) ThreadSanitizer in gcc 12 does not see.
/// @tparam T what the slot keeps: the product, or std::optional of it when it may be unloaded.
template <class T>
class product_slot {
public:
    template <class... Args>
        requires std::constructible_from<T, Args...>
    explicit product_slot(Args&&... args) : product(std::forward<Args>(args)...) {}
    product_slot(const product_slot&) = delete;
    auto operator=(const product_slot&) -> product_slot& = delete;

    /// Holds the slot, waiting up to `timeout` for its holder to let it go; false when it did not.
    auto try_lock_for(std::chrono::milliseconds timeout) -> bool {
        std::unique_lock guard(mutex_);
        if (!released_.wait_for(guard, timeout, [this] { return !held_; })) return false;
        held_ = true;
        return true;
    }
    /// Holds the slot when no one does; false otherwise.
    auto try_lock() -> bool {
        const std::lock_guard guard(mutex_);
        if (held_) return false;
        held_ = true;
        return true;
    }
    /// Holds the slot, waiting as long as it takes.
    void lock() {
        std::unique_lock guard(mutex_);
        released_.wait(guard, [this] { return !held_; });
        held_ = true;
    }
    /// Lets the slot go and wakes one waiter.
    void unlock() noexcept {
        {
            const std::lock_guard guard(mutex_);
            held_ = false;
        }
        released_.notify_one();
    }

    /// The product; read or changed only by the slot's holder.
    T product;

    // For a store that lets a product go before its commit is durable (SQLite): the ticket of
    // the last commit queued with the product and the generation its product was loaded or
    // checked at, both used by the holder only; and the generation, which the commit leader
    // increments when a commit made from the product fails (the product is stale then: it is
    // reloaded, and every commit made from it fails too).
    std::uint64_t last_ticket = 0;
    std::uint64_t loaded_generation = 0;
    std::atomic<std::uint64_t> generation{0};

private:
    std::mutex mutex_;
    std::condition_variable released_;
    bool held_ = false;
};

}  // namespace allocation::detail

#endif  // ALLOCATION_DETAIL_PRODUCT_SLOT_HPP
