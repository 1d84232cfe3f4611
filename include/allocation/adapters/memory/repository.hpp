// allocation — the in-memory repository: the slots a memory store keeps its products in, each
// held by one unit of work at a time (through the slot repository every slot store shares), and
// the owner of each batch reference.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_MEMORY_REPOSITORY_HPP
#define ALLOCATION_ADAPTERS_MEMORY_REPOSITORY_HPP

#include <chrono>         // milliseconds
#include <cstddef>        // size_t
#include <memory>         // unique_ptr, make_unique
#include <optional>       // optional
#include <utility>        // move, pair
#include <vector>         // vector

#include <allocation/adapters/common/slot_repository.hpp>
#include <allocation/error.hpp>
#include <allocation/fwd.hpp>
#include <allocation/ports/repository.hpp>

namespace allocation::memory {

namespace detail {

/// The products of a memory store in their slots, and the SKU owning each batch reference: what
/// its repository finds and holds (the hooks slot_repository calls), and what a commit publishes.
/// The maps are guarded by one shared mutex, the products by their slots. Thread-safe.
/// @tparam Product a basic_product.
template <class Product>
class product_slots {
    using sku_type = typename Product::sku_type;
    using batch_ref_type = typename Product::batch_ref_type;

public:
    using slot = allocation::detail::slot_of_t<Product>;

    explicit product_slots(std::chrono::milliseconds lock_timeout) noexcept : timeout_(lock_timeout) {}

    /// The slot of a SKU, nullptr when unknown.
    [[nodiscard]] auto find(const sku_type& key) const -> slot* { return map_.find(key); }
    /// The number of products.
    [[nodiscard]] auto size() const -> std::size_t { return map_.size(); }

    // -- what slot_repository needs ---------------------------------------------------------
    [[nodiscard]] auto lock_timeout() const noexcept -> std::chrono::milliseconds { return timeout_; }
    auto contains(const sku_type& key) const -> result<bool> { return map_.find(key) != nullptr; }
    auto slot_of(const sku_type& key) const -> result<slot*> { return map_.find(key); }
    static auto refresh(slot& s, const sku_type&) -> result<bool> { return s.product.has_value(); }
    auto owner_of(const batch_ref_type& ref) const -> result<std::optional<sku_type>> { return map_.owner(ref); }

    /// Publishes the new products and batch references of a commit (a unit of work that only
    /// changed existing products does not take the maps' exclusive lock): new products go to
    /// new slots, held by the unit of work (appended to `local.held`) until it lets them go.
    /// Errors (nothing is kept then): errc::conflict when another unit of work committed the
    /// same new SKU first (a retry finds its product), errc::duplicate_batch when a new batch
    /// reference belongs to another SKU.
    auto publish(allocation::detail::held_products<Product>& local) -> result<void> {
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
        if (refs.empty() && local.added.empty()) return success();
        return map_.exclusive([&](auto& slots, auto& owners) -> result<void> {
            // Check everything first, so that a failed commit changes nothing.
            for (const auto& p : local.added) {
                if (slots.contains(p->sku())) return errc::conflict;
            }
            for (const auto& [ref, key] : refs) {
                if (const auto it = owners.find(ref); it != owners.end() && it->second != key) {
                    return errc::duplicate_batch;
                }
            }
            for (auto& [ref, key] : refs) owners.insert_or_assign(std::move(ref), std::move(key));
            for (auto& p : local.added) {
                auto key = p->sku();
                auto fresh = std::make_unique<slot>(std::move(*p));
                fresh->lock();
                local.held.push_back(fresh.get());
                slots.emplace(std::move(key), std::move(fresh));
            }
            local.added.clear();
            return success();
        });
    }

private:
    std::chrono::milliseconds timeout_;
    allocation::detail::slot_map<Product> map_;
};

}  // namespace detail

}  // namespace allocation::memory

#endif  // ALLOCATION_ADAPTERS_MEMORY_REPOSITORY_HPP
