// allocation — first in, first out: batches in the order they were received.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_STRATEGIES_FIFO_HPP
#define ALLOCATION_STRATEGIES_FIFO_HPP

#include <allocation/domain/batch.hpp>
#include <allocation/fwd.hpp>
#include <allocation/strategies/fwd.hpp>
#include <allocation/strategies/strategy.hpp>

namespace allocation {

/// Batches in receipt order: the batch added first is allocated first, whatever its ETA.
/// Served by the default ordered index (its stable sort keeps the order batches were added in),
/// so an allocation is O(log B) however many early batches are full.
struct fifo {
    /// The order depends only on what is fixed when a batch is added (stable_batch_preference).
    static constexpr bool stable_preference = true;

    template <class Batch>
    [[nodiscard]] constexpr auto prefers(const Batch&, const Batch&) const noexcept -> bool {
        return false;  // no batch before another: insertion order stands
    }
};

static_assert(allocation_strategy<fifo, batch>);

}  // namespace allocation

#endif  // ALLOCATION_STRATEGIES_FIFO_HPP
