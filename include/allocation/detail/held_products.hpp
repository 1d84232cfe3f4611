// allocation — the products a unit of work of the memory or SQLite store has in hand: slots of
// the store it holds and products it added.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_DETAIL_HELD_PRODUCTS_HPP
#define ALLOCATION_DETAIL_HELD_PRODUCTS_HPP

#include <memory>    // unique_ptr
#include <optional>  // optional
#include <vector>    // vector

#include <allocation/detail/product_slot.hpp>

namespace allocation::detail {

/// The product kept by a slot holding either the product or an optional one (a slot the SQLite
/// store has not loaded); the slot must be loaded.
template <class Product>
[[nodiscard]] auto slot_product(product_slot<Product>& s) noexcept -> Product& {
    return s.product;
}
template <class Product>
[[nodiscard]] auto slot_product(product_slot<std::optional<Product>>& s) noexcept -> Product& {
    return *s.product;
}

/// What a repository hands out: the slots it holds (until the unit of work ends) and the
/// products it added (moved to the store at commit). The owner locks and unlocks the slots.
/// @tparam Product a basic_product.
/// @tparam Slot product_slot<Product> or product_slot<std::optional<Product>>.
template <class Product, class Slot>
struct held_products {
    std::vector<Slot*> held;
    std::vector<std::unique_ptr<Product>> added;

    /// The held or added product of a SKU; nullptr when there is none.
    [[nodiscard]] auto find(const typename Product::sku_type& key) const -> Product* {
        for (auto* s : held) {
            if (auto& p = slot_product(*s); p.sku() == key) return &p;
        }
        for (const auto& p : added) {
            if (p->sku() == key) return p.get();
        }
        return nullptr;
    }

    /// The held or added product owning a batch; nullptr when there is none.
    [[nodiscard]] auto owner_of(const typename Product::batch_ref_type& ref) const -> Product* {
        for (auto* s : held) {
            if (auto& p = slot_product(*s); p.find_batch(ref) != nullptr) return &p;
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
        for (auto* s : held) out.push_back(&slot_product(*s));
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

}  // namespace allocation::detail

#endif  // ALLOCATION_DETAIL_HELD_PRODUCTS_HPP
