// allocation — the batch entity: a purchase of one SKU, in the warehouse or in shipment.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_DOMAIN_BATCH_HPP
#define ALLOCATION_DOMAIN_BATCH_HPP

#include <algorithm>  // find_if
#include <cstdint>    // uint32_t
#include <optional>   // optional
#include <span>       // span
#include <utility>    // move
#include <vector>     // vector

#include <allocation/domain/types.hpp>
#include <allocation/fwd.hpp>

namespace allocation {

/// A stock batch. Its identity is its reference. It knows the lines allocated to it in the order
/// they were allocated, so that a shrinking batch gives back the most recent ones first.
/// Batches change only through their product (basic_product), which keeps the invariants.
/// @tparam Traits the identifier, quantity and date types (see default_traits).
template <class Traits>
class basic_batch {
public:
    using traits_type = Traits;
    using batch_ref_type = typename Traits::batch_ref_type;
    using sku_type = typename Traits::sku_type;
    using order_id_type = typename Traits::order_id_type;
    using quantity_type = typename Traits::quantity_type;
    using date_type = typename Traits::date_type;

    /// One order line's share of this batch.
    struct entry {
        order_id_type order;
        quantity_type qty;
        friend auto operator==(const entry&, const entry&) -> bool = default;
    };

    /// A batch of `purchased` units. `eta` none: already in the warehouse. `expires` none: does
    /// not expire. `allocations` (oldest first) is for storage adapters loading a saved batch.
    basic_batch(batch_ref_type ref, sku_type code, quantity_type purchased,
                std::optional<date_type> eta = std::nullopt,
                std::optional<date_type> expires = std::nullopt,
                std::vector<entry> allocations = {})
        : ref_(std::move(ref)),
          sku_(std::move(code)),
          purchased_(purchased),
          eta_(eta),
          expires_(expires),
          entries_(std::move(allocations)) {
        for (const auto& e : entries_) allocated_ += e.qty;
    }

    [[nodiscard]] auto ref() const noexcept -> const batch_ref_type& { return ref_; }
    [[nodiscard]] auto sku() const noexcept -> const sku_type& { return sku_; }
    [[nodiscard]] auto purchased() const noexcept -> quantity_type { return purchased_; }
    [[nodiscard]] auto allocated() const noexcept -> quantity_type { return allocated_; }
    /// Units held by live holds (as of the latest time its product was given).
    [[nodiscard]] auto held() const noexcept -> quantity_type { return held_; }
    /// Purchased minus allocated minus held; never negative while the product's invariants hold.
    [[nodiscard]] auto available() const noexcept -> quantity_type { return purchased_ - allocated_ - held_; }
    [[nodiscard]] auto eta() const noexcept -> const std::optional<date_type>& { return eta_; }
    [[nodiscard]] auto expires() const noexcept -> const std::optional<date_type>& { return expires_; }
    /// The lines allocated here, oldest first.
    [[nodiscard]] auto allocations() const noexcept -> std::span<const entry> { return entries_; }
    /// Whether `qty` more units fit.
    [[nodiscard]] auto can_allocate(quantity_type qty) const noexcept -> bool { return qty <= available(); }

    friend auto operator==(const basic_batch& a, const basic_batch& b) noexcept -> bool {
        return a.ref_ == b.ref_;
    }

private:
    template <class, class>
    friend class basic_product;

    void add(const order_id_type& order, quantity_type qty) {
        // Built in place: one copy of the order id, no temporary entry to move from.
        auto& e = entries_.emplace_back();
        e.order = order;
        e.qty = qty;
        allocated_ += qty;
    }
    void insert(std::size_t position, const order_id_type& order, quantity_type qty) {
        entries_.insert(entries_.begin() + static_cast<std::ptrdiff_t>(position), entry{order, qty});
        allocated_ += qty;
    }
    /// Removes the order's entry; returns its position (searched from the most recent).
    auto remove(const order_id_type& order) -> std::size_t {
        for (std::size_t i = entries_.size(); i-- > 0;) {
            if (entries_[i].order == order) {
                allocated_ -= entries_[i].qty;
                entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(i));
                return i;
            }
        }
        return entries_.size();
    }
    void set_purchased(quantity_type qty) noexcept { purchased_ = qty; }
    void hold(quantity_type qty) noexcept { held_ += qty; }
    void unhold(quantity_type qty) noexcept { held_ -= qty; }

    batch_ref_type ref_;
    sku_type sku_;
    quantity_type purchased_;
    quantity_type allocated_{};
    quantity_type held_{};
    std::optional<date_type> eta_;
    std::optional<date_type> expires_;
    std::vector<entry> entries_;
};

}  // namespace allocation

#endif  // ALLOCATION_DOMAIN_BATCH_HPP
