// allocation — best fit: the batch with the least stock that still takes the whole line.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_STRATEGIES_BEST_FIT_HPP
#define ALLOCATION_STRATEGIES_BEST_FIT_HPP

#include <cstddef>   // size_t
#include <cstdint>   // int64_t, uint32_t
#include <optional>  // optional
#include <set>       // set
#include <span>      // span
#include <utility>   // pair
#include <vector>    // vector

#include <allocation/domain/types.hpp>
#include <allocation/domain/batch.hpp>
#include <allocation/fwd.hpp>
#include <allocation/strategies/fwd.hpp>
#include <allocation/strategies/strategy.hpp>

namespace allocation {

/// Best fit, fewest splits: a line goes to the batch with the smallest available quantity that
/// takes it whole (ties: the batch added first), which keeps large batches whole for large
/// lines. A split line takes the fewest batches that cover it: the largest ones whole, and the
/// best fit for the rest.
///
/// Its index is an ordered set of (available, batch index) of the batches with stock: finding,
/// updating and each split part are O(log B); a full batch costs nothing.
struct best_fit {
    /// The order batches are shown in: least available first.
    template <class Batch>
    [[nodiscard]] constexpr auto prefers(const Batch& a, const Batch& b) const noexcept -> bool {
        return a.available() < b.available();
    }

    template <class Batch>
    class index {
    public:
        void rebuild(const best_fit&, std::span<const Batch> batches) {
            set_.clear();
            key_.assign(batches.size(), 0);
            for (std::size_t i = 0; i < batches.size(); ++i) {
                key_[i] = detail::count(batches[i].available());
                if (key_[i] > 0) set_.emplace(key_[i], static_cast<std::uint32_t>(i));
            }
        }

        void update(const best_fit&, std::span<const Batch> batches, std::size_t i) {
            const auto now = detail::count(batches[i].available());
            const auto old = key_[i];
            if (now == old) return;
            key_[i] = now;
            const auto id = static_cast<std::uint32_t>(i);
            if (old > 0) {
                auto node = set_.extract({old, id});  // reuses the node: no allocation
                if (now > 0) {
                    node.value().first = now;
                    set_.insert(std::move(node));
                }
            } else if (now > 0) {
                set_.emplace(now, id);
            }
        }

        [[nodiscard]] auto find(const best_fit&, std::span<const Batch>, typename Batch::quantity_type q) const
            -> std::optional<std::size_t> {
            const auto it = set_.lower_bound({detail::count(q), 0});
            if (it == set_.end()) return std::nullopt;
            return it->second;
        }

        /// The largest batches whole until the rest fits one batch, then the best fit for it.
        template <class Parts>
        auto plan_split(const best_fit&, std::span<const Batch>, typename Batch::quantity_type q, Parts& out) const
            -> bool {
            using quantity_type = typename Batch::quantity_type;
            auto remaining = detail::count(q);
            auto unused_end = set_.end();  // [begin, unused_end) not taken yet; the rest taken whole
            while (remaining > 0) {
                const auto it = set_.lower_bound({remaining, 0});
                const bool fits = it != set_.end() && (unused_end == set_.end() || *it < *unused_end);
                if (fits) {
                    out.push_back({it->second, detail::make_quantity<quantity_type>(remaining)});
                    return true;
                }
                if (unused_end == set_.begin()) return false;
                --unused_end;
                out.push_back({unused_end->second, detail::make_quantity<quantity_type>(unused_end->first)});
                remaining -= unused_end->first;
            }
            return true;
        }

    private:
        std::set<std::pair<std::int64_t, std::uint32_t>> set_;
        std::vector<std::int64_t> key_;  // batch index -> the available quantity in set_
    };
};

static_assert(allocation_strategy<best_fit, batch>);

}  // namespace allocation

#endif  // ALLOCATION_STRATEGIES_BEST_FIT_HPP
