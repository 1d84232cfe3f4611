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
#include <allocation/adapters/common/product_rows.hpp>
#include <allocation/adapters/common/slot_repository.hpp>
#include <allocation/adapters/common/slot_unit_of_work.hpp>
#include <allocation/adapters/memory/reader.hpp>
#include <allocation/domain/product.hpp>
#include <allocation/error.hpp>
#include <allocation/ports/product_reader.hpp>
#include <allocation/ports/unit_of_work.hpp>

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
class basic_store : public allocation::detail::makes_products_with<Product> {
public:
    using product_type = Product;
    using traits_type = typename Product::traits_type;
    using sku_type = typename Product::sku_type;
    using batch_ref_type = typename Product::batch_ref_type;
    using order_id_type = typename Product::order_id_type;
    using unit_of_work_type = allocation::detail::slot_unit_of_work<basic_store>;

    explicit basic_store(std::chrono::milliseconds lock_timeout = std::chrono::seconds{1}) : timeout_(lock_timeout) {}
    basic_store(const basic_store&) = delete;
    auto operator=(const basic_store&) -> basic_store& = delete;

    /// Starts a unit of work.
    [[nodiscard]] auto begin() -> unit_of_work_type { return unit_of_work_type(*this); }

    /// Calls `f(const Product&)` on a committed product, holding it like a unit of work would
    /// (waiting up to the lock timeout); returns false when the SKU is unknown or the product
    /// stayed held. Prefer read_product(), which never waits.
    template <class F>
    auto read(const sku_type& key, F&& f) -> bool {
        slot* s = find(key);
        if (s == nullptr) return false;
        if (!s->try_lock_for(timeout_)) return false;
        const std::unique_lock held(*s, std::adopt_lock);
        std::forward<F>(f)(std::as_const(*s->product));
        return true;
    }

    /// The committed state of a product; none when unknown. Never waits for a unit of work.
    auto read_product(const sku_type& key) -> result<std::optional<basic_product_state<traits_type>>> {
        return committed_.read_product(key);
    }
    /// A committed batch; none when no product has it. Never waits for a unit of work.
    auto read_batch(const batch_ref_type& ref) -> result<std::optional<basic_batch_state<traits_type>>> {
        return committed_.read_batch(ref);
    }
    /// Where an order's lines are allocated, in allocation order. Never waits for a unit of work.
    auto read_allocations(const order_id_type& order) -> result<std::vector<basic_line_allocation<traits_type>>> {
        return committed_.read_allocations(order);
    }

    /// The number of products.
    [[nodiscard]] auto size() const -> std::size_t {
        std::shared_lock lock(mutex_);
        return products_.size();
    }

private:
    template <class>
    friend class allocation::detail::slot_repository;
    template <class>
    friend class allocation::detail::slot_unit_of_work;
    using slot = allocation::detail::slot_of_t<Product>;
    using held_type = allocation::detail::held_products<Product>;
    static constexpr bool drops_on_failure = false;  // the slots hold the only copy

    auto find(const sku_type& key) const -> slot* {
        std::shared_lock lock(mutex_);
        const auto it = products_.find(key);
        return it == products_.end() ? nullptr : it->second.get();
    }

    // -- what slot_repository needs ---------------------------------------------------------
    [[nodiscard]] auto lock_timeout() const noexcept -> std::chrono::milliseconds { return timeout_; }
    auto contains(const sku_type& key) const -> result<bool> { return find(key) != nullptr; }
    auto slot_of(const sku_type& key) const -> result<slot*> { return find(key); }
    static auto refresh(slot& s, const sku_type&) -> result<bool> { return s.product.has_value(); }
    auto owner_of(const batch_ref_type& ref) const -> result<std::optional<sku_type>> {
        std::shared_lock lock(mutex_);
        const auto it = batches_.find(ref);
        if (it == batches_.end()) return std::optional<sku_type>{};
        return std::optional<sku_type>(it->second);
    }

    // -- what slot_unit_of_work needs -------------------------------------------------------
    // Publishes new products and batch references in the maps (a unit of work that only
    // changed existing products does not take the maps' exclusive lock) and the read model.
    // Errors (nothing is kept then): errc::conflict when another unit of work committed the
    // same new SKU first (a retry finds its product), errc::duplicate_batch when a new batch
    // reference belongs to another SKU.
    auto commit_changes(held_type& local, allocation::detail::staged_inbox&) -> result<void> {
        std::vector<std::pair<batch_ref_type, sku_type>> refs;
        for (const auto& p : local.added) {
            for (const auto& b : p->batches()) refs.emplace_back(b.ref(), p->sku());
        }
        for (auto* s : local.held) {
            const auto& p = *s->product;
            for (const auto& c : p.changes()) {
                if (c.what == Product::change::kind::batch_added) refs.emplace_back(p.batches()[c.batch].ref(), p.sku());
            }
        }
        if (!refs.empty() || !local.added.empty()) {
            std::unique_lock lock(mutex_);
            // Check everything first, so that a failed commit changes nothing.
            for (const auto& p : local.added) {
                if (products_.contains(p->sku())) return errc::conflict;
            }
            for (const auto& [ref, key] : refs) {
                if (const auto it = batches_.find(ref); it != batches_.end() && it->second != key) {
                    return errc::duplicate_batch;
                }
            }
            for (auto& [ref, key] : refs) batches_.insert_or_assign(std::move(ref), std::move(key));
            // New products go to new slots, held by the unit of work until it lets them go.
            for (auto& p : local.added) {
                auto key = p->sku();
                auto fresh = std::make_unique<slot>(std::move(*p));
                fresh->lock();
                local.held.push_back(fresh.get());
                products_.emplace(std::move(key), std::move(fresh));
            }
            local.added.clear();
        }
        for (auto* s : local.held) committed_.apply(*s->product);
        return success();
    }

    std::chrono::milliseconds timeout_;
    mutable std::shared_mutex mutex_;  // guards the two maps, not the products
    std::unordered_map<sku_type, std::unique_ptr<slot>> products_;
    std::unordered_map<batch_ref_type, sku_type> batches_;
    basic_read_model<Product> committed_;
};

/// The in-memory store of the default product.
using store = basic_store<allocation::product>;

static_assert(allocation::unit_of_work_factory<store>);
static_assert(allocation::product_reader<store>);
static_assert(allocation::makes_products<store>);

}  // namespace allocation::memory

#endif  // ALLOCATION_ADAPTERS_MEMORY_STORE_HPP
