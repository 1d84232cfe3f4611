// allocation — the repository of the stores that keep their products in slots (in memory, and
// SQLite's cache): a product is held by one unit of work at a time.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_COMMON_SLOT_REPOSITORY_HPP
#define ALLOCATION_ADAPTERS_COMMON_SLOT_REPOSITORY_HPP

#include <cstddef>        // size_t
#include <cstdint>        // uint64_t
#include <memory>         // unique_ptr, make_unique
#include <mutex>          // unique_lock, adopt_lock
#include <optional>       // optional
#include <shared_mutex>   // shared_mutex, shared_lock
#include <unordered_map>  // unordered_map
#include <utility>        // move, forward
#include <vector>         // vector

#include <allocation/detail/product_slot.hpp>
#include <allocation/error.hpp>
#include <allocation/try.hpp>

namespace allocation::detail {

/// A store's slot: a product, or none while the store has not loaded it (or dropped it).
template <class Product>
using slot_of_t = product_slot<std::optional<Product>>;

/// Whether a store lets a unit of work's products go as soon as its commit is queued, before it
/// is durable (`static constexpr bool releases_early = true`, SQLite): the next unit of work then
/// sees changes that may still fail, so what it saw is noted (a sighting) and checked.
template <class Store>
concept releases_early = requires { requires Store::releases_early; };

/// A product a unit of work saw in a store that releases early: its slot, the generation of the
/// product it saw and the last commit queued with it then. The unit of work's answer rests on
/// that commit; it holds when the commit is durable and the generation has not changed.
template <class Slot>
struct sighting {
    Slot* slot;
    std::uint64_t generation;
    std::uint64_t ticket;
};

/// What a unit of work has in hand: the slots it holds (until it ends) and the products it
/// added (moved to the store at commit).
template <class Product>
struct held_products {
    std::vector<slot_of_t<Product>*> held;
    std::vector<std::unique_ptr<Product>> added;

    /// The held or added product of a SKU; nullptr when there is none.
    [[nodiscard]] auto find(const typename Product::sku_type& key) const -> Product* {
        for (auto* s : held) {
            if (s->product->sku() == key) return &*s->product;
        }
        for (const auto& p : added) {
            if (p->sku() == key) return p.get();
        }
        return nullptr;
    }
    /// The held or added product owning a batch; nullptr when there is none.
    [[nodiscard]] auto owner_of(const typename Product::batch_ref_type& ref) const -> Product* {
        for (auto* s : held) {
            if (s->product->find_batch(ref) != nullptr) return &*s->product;
        }
        for (const auto& p : added) {
            if (p->find_batch(ref) != nullptr) return p.get();
        }
        return nullptr;
    }
    /// Every product, held first, then added.
    [[nodiscard]] auto all() const -> std::vector<Product*> {
        std::vector<Product*> out;
        out.reserve(held.size() + added.size());
        for (auto* s : held) out.push_back(&*s->product);
        for (const auto& p : added) out.push_back(p.get());
        return out;
    }
    [[nodiscard]] auto empty() const noexcept -> bool { return held.empty() && added.empty(); }
    /// Forgets everything (the slots must have been unlocked).
    void clear() noexcept {
        held.clear();
        added.clear();
    }
};

/// The slots of a store's products by SKU, and the SKU owning each batch reference it knows: the
/// two maps every slot store keeps, under one shared mutex (the products are guarded by their
/// slots, which outlive the store's units of work). Thread-safe.
/// @tparam Product a basic_product.
template <class Product>
class slot_map {
    using sku_type = typename Product::sku_type;
    using batch_ref_type = typename Product::batch_ref_type;

public:
    using slot = slot_of_t<Product>;
    using slots_type = std::unordered_map<sku_type, std::unique_ptr<slot>>;
    using owners_type = std::unordered_map<batch_ref_type, sku_type>;

    /// The slot of a SKU, nullptr when it has none.
    [[nodiscard]] auto find(const sku_type& key) const -> slot* {
        const std::shared_lock lock(mutex_);
        const auto it = slots_.find(key);
        return it == slots_.end() ? nullptr : it->second.get();
    }
    /// The slot of a SKU, an empty one made when it has none.
    auto find_or_make(const sku_type& key) -> slot* {
        const std::unique_lock lock(mutex_);
        auto& s = slots_[key];
        if (!s) s = std::make_unique<slot>();
        return s.get();
    }
    /// The SKU owning a batch reference; none when unknown.
    [[nodiscard]] auto owner(const batch_ref_type& ref) const -> std::optional<sku_type> {
        const std::shared_lock lock(mutex_);
        const auto it = owners_.find(ref);
        if (it == owners_.end()) return std::nullopt;
        return it->second;
    }
    /// Records the SKU owning a batch reference.
    void set_owner(const batch_ref_type& ref, const sku_type& key) {
        const std::unique_lock lock(mutex_);
        owners_.insert_or_assign(ref, key);
    }
    /// The number of slots.
    [[nodiscard]] auto size() const -> std::size_t {
        const std::shared_lock lock(mutex_);
        return slots_.size();
    }
    /// Runs `f(slots, owners)` holding the maps exclusively (a change checked and made at once).
    template <class F>
    auto exclusive(F&& f) {
        const std::unique_lock lock(mutex_);
        return std::forward<F>(f)(slots_, owners_);
    }

private:
    mutable std::shared_mutex mutex_;
    slots_type slots_;
    owners_type owners_;
};

/// Caches the products a commit added in `map`, in slots the unit of work holds (appended to
/// `local.held`, let go with the held products); one whose slot another unit of work holds (it
/// loads the product meanwhile) is left in `local.added`.
template <class Product>
void adopt_added(slot_map<Product>& map, held_products<Product>& local) {
    std::vector<std::unique_ptr<Product>> uncached;
    for (auto& p : local.added) {
        for (const auto& b : p->batches()) map.set_owner(b.ref(), p->sku());
        auto* s = map.find_or_make(p->sku());
        const bool locked = s->try_lock();
        if (locked && !s->product) {
            s->product = std::move(*p);
            s->loaded_generation = s->generation.load();
            local.held.push_back(s);
        } else {
            if (locked) s->unlock();
            uncached.push_back(std::move(p));
        }
    }
    local.added = std::move(uncached);
}

/// The repository of a slot store. The store (`Store`) gives it, as a friend:
/// - `lock_timeout()`: how long get() waits for a product another unit of work holds;
/// - `contains(sku) -> result<bool>`: whether the SKU is stored (add() refuses it then);
/// - `slot_of(sku) -> result<slot*>`: the slot of a stored SKU, nullptr when unknown;
/// - `refresh(slot&, sku) -> result<bool>`: called while holding the slot, makes its product
///   the committed one (loading it when needed); false when the SKU is gone;
/// - `owner_of(ref) -> result<std::optional<sku>>`: the SKU owning a batch reference.
/// get() holds the product's slot until the unit of work ends: a second unit of work waits up to
/// the lock timeout for it, then fails with errc::conflict (the message bus retries).
template <class Store>
class slot_repository {
public:
    using product_type = typename Store::product_type;
    using sku_type = typename product_type::sku_type;
    using batch_ref_type = typename product_type::batch_ref_type;

    explicit slot_repository(Store& s) noexcept : store_(&s) {}
    slot_repository(const slot_repository&) = delete;
    auto operator=(const slot_repository&) -> slot_repository& = delete;
    ~slot_repository() { release(false, false); }

    /// Stages a new product, kept at commit. Errors: errc::duplicate_product; storage errors.
    auto add(product_type p) -> result<void> {
        if (local_.find(p.sku()) != nullptr) return errc::duplicate_product;
        ALLOCATION_TRY(known, store_->contains(p.sku()));
        if (known) return errc::duplicate_product;
        local_.added.push_back(std::make_unique<product_type>(std::move(p)));
        return success();
    }

    /// The product of a SKU, held until the unit of work ends; nullptr when unknown.
    /// Errors: errc::conflict when another unit of work held it for the whole lock timeout;
    /// storage errors.
    auto get(const sku_type& key) -> result<product_type*> {
        if (auto* p = local_.find(key)) return p;
        ALLOCATION_TRY(s, store_->slot_of(key));
        if (s == nullptr) return static_cast<product_type*>(nullptr);
        if (!s->try_lock_for(store_->lock_timeout())) return errc::conflict;
        std::unique_lock held(*s, std::adopt_lock);
        ALLOCATION_TRY(present, store_->refresh(*s, key));
        if (!present) return static_cast<product_type*>(nullptr);
        s->product->checkpoint();
        if constexpr (releases_early<Store>) seen_.push_back({s, s->loaded_generation, s->last_ticket});
        local_.held.push_back(s);
        held.release();
        return &*s->product;
    }

    /// The product owning a batch, held like get(); nullptr when no product has it.
    auto get_by_batch_ref(const batch_ref_type& ref) -> result<product_type*> {
        if (auto* p = local_.owner_of(ref)) return p;
        ALLOCATION_TRY(key, store_->owner_of(ref));
        if (!key) return static_cast<product_type*>(nullptr);
        return get(*key);
    }

    /// Every product handed out by this repository.
    [[nodiscard]] auto seen() const -> std::vector<product_type*> { return local_.all(); }

    /// What the unit of work has in hand.
    [[nodiscard]] auto in_hand() noexcept -> held_products<product_type>& { return local_; }

    /// The products got since the sightings were last cleared (a store that releases early).
    [[nodiscard]] auto sightings() noexcept -> std::vector<sighting<slot_of_t<product_type>>>& { return seen_; }

    /// Keeps the held products' changes and lets them go; the added ones stay in hand.
    void release_held() noexcept {
        for (auto* s : local_.held) {
            s->product->accept();
            s->unlock();
        }
        local_.held.clear();
    }

    /// Keeps (after a commit) or undoes the held products' changes and lets them go; `drop`
    /// (a failed commit): the slots forget their products, which may be stale.
    void release(bool keep, bool drop) noexcept {
        for (auto* s : local_.held) {
            if (keep) {
                s->product->accept();
            } else {
                s->product->rollback();
                if (drop) s->product.reset();
            }
            s->unlock();
        }
        local_.clear();
    }

private:
    Store* store_;
    held_products<product_type> local_;
    std::vector<sighting<slot_of_t<product_type>>> seen_;  // a store that releases early only
};

}  // namespace allocation::detail

#endif  // ALLOCATION_ADAPTERS_COMMON_SLOT_REPOSITORY_HPP
