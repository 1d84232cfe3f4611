// allocation — the in-memory store and repository: products shared by threads, each product
// held by one unit of work at a time.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_MEMORY_REPOSITORY_HPP
#define ALLOCATION_ADAPTERS_MEMORY_REPOSITORY_HPP

#include <chrono>         // milliseconds
#include <cstddef>        // size_t
#include <memory>         // unique_ptr, make_unique
#include <mutex>          // unique_lock, adopt_lock
#include <optional>       // optional
#include <shared_mutex>   // shared_mutex, shared_lock
#include <unordered_map>  // unordered_map
#include <utility>        // move, forward, as_const
#include <vector>         // vector

#include <allocation/detail/held_products.hpp>
#include <allocation/detail/product_slot.hpp>
#include <allocation/domain/product.hpp>
#include <allocation/error.hpp>
#include <allocation/ports/repository.hpp>

namespace allocation::memory {

template <class Product>
class unit_of_work;
template <class Product>
class repository;

/// Products in memory, shared by every unit of work started from it, on any thread.
/// A unit of work holds each product it gets exclusively until it commits or rolls back; a
/// second one waits up to `lock_timeout` for it, then fails with errc::conflict (the message bus
/// retries). Units of work that need several products must get them in SKU order, as the
/// library's handlers do, so that they cannot wait for each other.
/// @tparam Product a basic_product.
template <class Product = allocation::product>
class store {
public:
    using product_type = Product;
    using sku_type = typename Product::sku_type;
    using batch_ref_type = typename Product::batch_ref_type;

    explicit store(std::chrono::milliseconds lock_timeout = std::chrono::seconds{1}) : timeout_(lock_timeout) {}
    store(const store&) = delete;
    auto operator=(const store&) -> store& = delete;

    /// Starts a unit of work.
    [[nodiscard]] auto begin() -> unit_of_work<Product> { return unit_of_work<Product>(*this); }

    /// Calls `f(const Product&)` on a committed product while no unit of work holds it; returns
    /// false when the SKU is unknown or the product stayed held for the lock timeout.
    template <class F>
    auto read(const sku_type& key, F&& f) -> bool {
        slot* s = find(key);
        if (s == nullptr) return false;
        if (!s->try_lock_for(timeout_)) return false;
        const std::unique_lock held(*s, std::adopt_lock);
        std::forward<F>(f)(std::as_const(s->product));
        return true;
    }

    /// The number of products.
    [[nodiscard]] auto size() const -> std::size_t {
        std::shared_lock lock(mutex_);
        return products_.size();
    }

private:
    friend class repository<Product>;
    friend class unit_of_work<Product>;

    // A product is held by one unit of work at a time.
    using slot = allocation::detail::product_slot<Product>;

    auto find(const sku_type& key) const -> slot* {
        std::shared_lock lock(mutex_);
        const auto it = products_.find(key);
        return it == products_.end() ? nullptr : it->second.get();
    }
    auto sku_of(const batch_ref_type& ref) const -> std::optional<sku_type> {
        std::shared_lock lock(mutex_);
        const auto it = batches_.find(ref);
        if (it == batches_.end()) return std::nullopt;
        return it->second;
    }

    std::chrono::milliseconds timeout_;
    mutable std::shared_mutex mutex_;  // guards the two maps, not the products
    std::unordered_map<sku_type, std::unique_ptr<slot>> products_;
    std::unordered_map<batch_ref_type, sku_type> batches_;
};

/// The repository of a memory::unit_of_work: hands out products of the store, held and
/// tracked until the unit of work ends.
template <class Product = allocation::product>
class repository {
public:
    using product_type = Product;
    using sku_type = typename Product::sku_type;
    using batch_ref_type = typename Product::batch_ref_type;

    explicit repository(store<Product>& s) noexcept : store_(&s) {}
    repository(const repository&) = delete;
    auto operator=(const repository&) -> repository& = delete;
    ~repository() { release(false); }

    /// Stages a new product. Errors: errc::duplicate_product.
    auto add(Product p) -> result<void> {
        if (local_.find(p.sku()) != nullptr || store_->find(p.sku()) != nullptr) return errc::duplicate_product;
        local_.added.push_back(std::make_unique<Product>(std::move(p)));
        return success();
    }

    /// The product of a SKU, held until the unit of work ends; nullptr when unknown.
    /// Errors: errc::conflict when another unit of work held it for the whole lock timeout.
    auto get(const sku_type& key) -> result<Product*> {
        if (auto* p = local_.find(key)) return p;
        auto* s = store_->find(key);
        if (s == nullptr) return static_cast<Product*>(nullptr);
        if (!s->try_lock_for(store_->timeout_)) return errc::conflict;
        s->product.checkpoint();
        local_.held.push_back(s);
        return &s->product;
    }

    /// The product owning a batch; nullptr when no product has it.
    auto get_by_batch_ref(const batch_ref_type& ref) -> result<Product*> {
        if (auto* p = local_.owner_of(ref)) return p;
        const auto key = store_->sku_of(ref);
        if (!key) return static_cast<Product*>(nullptr);
        return get(*key);
    }

    /// Every product handed out by this repository.
    [[nodiscard]] auto seen() const -> std::vector<Product*> { return local_.all(); }

private:
    friend class unit_of_work<Product>;
    using slot = typename store<Product>::slot;

    // Keeps (commit) or undoes (rollback) the held products' changes and lets them go.
    void release(bool keep) noexcept {
        for (auto* s : local_.held) {
            if (keep) {
                s->product.accept();
            } else {
                s->product.rollback();
            }
            s->unlock();
        }
        local_.clear();
    }

    store<Product>* store_;
    allocation::detail::held_products<Product, slot> local_;
};

static_assert(allocation::repository<repository<>>);

}  // namespace allocation::memory

#endif  // ALLOCATION_ADAPTERS_MEMORY_REPOSITORY_HPP
