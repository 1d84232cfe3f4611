// allocation — the default strategy: warehouse stock first, then shipments by earliest ETA.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_STRATEGIES_WAREHOUSE_FIRST_HPP
#define ALLOCATION_STRATEGIES_WAREHOUSE_FIRST_HPP

namespace allocation {

/// Batches already in the warehouse (no ETA) before batches in shipment, shipments by earliest
/// ETA; ties keep the order the batches were added in.
struct warehouse_first {
    /// The order depends only on what is fixed when a batch is added (stable_batch_preference).
    static constexpr bool stable_preference = true;

    template <class Batch>
    [[nodiscard]] constexpr auto prefers(const Batch& a, const Batch& b) const noexcept -> bool {
        if (!a.eta()) return b.eta().has_value();
        if (!b.eta()) return false;
        return *a.eta() < *b.eta();
    }
};

}  // namespace allocation

#endif  // ALLOCATION_STRATEGIES_WAREHOUSE_FIRST_HPP
