// allocation — what an allocation strategy is, and the O(log B) index that serves it.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_STRATEGIES_STRATEGY_HPP
#define ALLOCATION_STRATEGIES_STRATEGY_HPP

#include <algorithm>  // stable_sort, max
#include <bit>        // bit_ceil
#include <concepts>   // convertible_to
#include <cstddef>    // size_t
#include <cstdint>    // int64_t, uint32_t
#include <numeric>    // iota
#include <optional>   // optional
#include <span>       // span
#include <vector>     // vector

#include <allocation/domain/types.hpp>

namespace allocation {

/// A batch preference: `s.prefers(a, b)` is a strict weak order, true when batch `a` should be
/// allocated before batch `b`. Batches it does not order keep the order they were added in.
///
/// What `prefers` may read: anything a batch exposes (its reference, SKU, ETA, expiry,
/// purchased, allocated and available quantities, its allocations) and the strategy's own state,
/// as they are when it is called; it must be a strict weak order at each moment. Whatever it
/// reads, a product's preference_order() and allocate() agree: a line goes to the first batch of
/// preference_order() that is eligible and can take it. How fast depends on what it reads:
/// - a strategy that promises stable_batch_preference (its order depends only on what is fixed
///   when a batch is added) is served by the ordered index: O(log B) per line;
/// - any other is served by a scan of the batches: O(B) per line;
/// - a strategy may bring its own index (`S::index<Batch>`, see batch_index), which then keeps
///   that agreement itself (best_fit's does).
template <class S, class Batch>
concept batch_preference = requires(const S& s, const Batch& a, const Batch& b) {
    { s.prefers(a, b) } -> std::convertible_to<bool>;
};

/// Optional: `S::stable_preference` is true. A promise that `prefers` reads only what is fixed
/// when a batch is added (its reference, SKU, ETA and expiry) and strategy state that does not
/// change once products use it, so the batches' order never changes but when a batch is added.
/// The shipped warehouse_first, fifo and fefo make it.
template <class S>
concept stable_batch_preference = requires {
    requires static_cast<bool>(S::stable_preference);
};

/// Optional: `s.prefers(a, b, line)` orders the batches for one order line (its order id,
/// quantity and the caller's context, see basic_order_line). The product uses it instead of
/// prefers(a, b) to place that line, by a scan: O(B) per line.
template <class S, class Batch, class Line>
concept line_preference = requires(const S& s, const Batch& a, const Batch& b, const Line& line) {
    { s.prefers(a, b, line) } -> std::convertible_to<bool>;
};

/// Optional: `s.eligible(b)` false keeps a batch from being allocated at all (an expired batch).
template <class S, class Batch>
concept batch_eligibility = requires(const S& s, const Batch& b) {
    { s.eligible(b) } -> std::convertible_to<bool>;
};

/// An index that finds the batch a strategy would allocate a quantity to.
/// `rebuild` after batches were added, `update` after batch `i`'s available quantity changed,
/// `find` the index of the batch to allocate to, or none.
template <class I, class S, class Batch>
concept batch_index = std::default_initializable<I> &&
    requires(I& index, const I& cindex, const S& s, std::span<const Batch> batches, std::size_t i,
             typename Batch::quantity_type q) {
        index.rebuild(s, batches);
        index.update(s, batches, i);
        { cindex.find(s, batches, q) } -> std::same_as<std::optional<std::size_t>>;
    };

namespace detail {

/// Whether strategy `s` lets batch `b` be allocated (batch_eligibility; every batch otherwise).
template <class S, class Batch>
[[nodiscard]] auto eligible(const S& s, const Batch& b) -> bool {
    if constexpr (batch_eligibility<S, Batch>) {
        return static_cast<bool>(s.eligible(b));
    } else {
        return true;
    }
}

/// The batch a line of `q` goes to under the order `less`: the most preferred eligible batch that
/// can take it, the first added among equals (the first such batch of a stable sort by `less`).
/// O(B).
template <class S, class Batch, class Less>
[[nodiscard]] auto scan_first(const S& s, std::span<const Batch> batches, typename Batch::quantity_type q,
                              const Less& less) -> std::optional<std::size_t> {
    std::optional<std::size_t> best;
    for (std::size_t i = 0; i < batches.size(); ++i) {
        if (!batches[i].can_allocate(q) || !eligible(s, batches[i])) continue;
        if (!best || static_cast<bool>(less(batches[i], batches[*best]))) best = i;
    }
    return best;
}

/// Plans a split of `q` over `batches` in the order `less` (a stable sort), each eligible batch
/// taking what it has: appends (batch index, quantity) parts to `out`; false when they cannot
/// cover `q`. O(B log B).
template <class S, class Batch, class Less, class Parts>
auto plan_split_by(const S& s, std::span<const Batch> batches, typename Batch::quantity_type q, const Less& less,
                   Parts& out) -> bool {
    std::vector<std::uint32_t> order(batches.size());
    std::iota(order.begin(), order.end(), std::uint32_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
        return static_cast<bool>(less(batches[a], batches[b]));
    });
    auto remaining = detail::count(q);
    for (const auto i : order) {
        if (remaining == 0) break;
        if (!eligible(s, batches[i])) continue;
        const auto take = std::min(remaining, detail::count(batches[i].available()));
        if (take <= 0) continue;
        out.push_back({i, detail::make_quantity<typename Batch::quantity_type>(take)});
        remaining -= take;
    }
    return remaining == 0;
}

/// The index of a strategy that makes no promise about what its preference reads: nothing is
/// cached, each find scans the batches as they are (O(B)), so it always agrees with the
/// strategy's order at that moment.
template <class Batch>
class scan_index {
public:
    template <class S>
    void rebuild(const S&, std::span<const Batch>) noexcept {}
    template <class S>
    void update(const S&, std::span<const Batch>, std::size_t) noexcept {}
    template <class S>
    [[nodiscard]] auto find(const S& s, std::span<const Batch> batches, typename Batch::quantity_type q) const
        -> std::optional<std::size_t> {
        return scan_first(s, batches, q, [&](const Batch& a, const Batch& b) { return s.prefers(a, b); });
    }
};

/// The index of a strategy with a stable preference (stable_batch_preference): batches sorted by the strategy's preference, under a segment tree of the
/// largest available quantity in each range, so the first batch that can take a quantity is
/// found in O(log B) however many batches are full. Updates are O(log B); a rebuild is
/// O(B log B).
template <class Batch>
class ordered_index {
public:
    template <class S>
    void rebuild(const S& s, std::span<const Batch> batches) {
        const auto n = batches.size();
        order_.resize(n);
        std::iota(order_.begin(), order_.end(), std::uint32_t{0});
        std::stable_sort(order_.begin(), order_.end(), [&](std::uint32_t a, std::uint32_t b) {
            return static_cast<bool>(s.prefers(batches[a], batches[b]));
        });
        position_.resize(n);
        for (std::size_t p = 0; p < n; ++p) position_[order_[p]] = static_cast<std::uint32_t>(p);
        leaves_ = std::bit_ceil(std::max<std::size_t>(n, 1));
        tree_.assign(2 * leaves_, -1);
        for (std::size_t p = 0; p < n; ++p) tree_[leaves_ + p] = value(s, batches[order_[p]]);
        for (std::size_t node = leaves_ - 1; node > 0; --node) {
            tree_[node] = std::max(tree_[2 * node], tree_[2 * node + 1]);
        }
    }

    template <class S>
    void update(const S& s, std::span<const Batch> batches, std::size_t i) {
        auto node = leaves_ + position_[i];
        tree_[node] = value(s, batches[i]);
        for (node /= 2; node > 0; node /= 2) {
            const auto m = std::max(tree_[2 * node], tree_[2 * node + 1]);
            if (tree_[node] == m) break;
            tree_[node] = m;
        }
    }

    template <class S>
    [[nodiscard]] auto find(const S&, std::span<const Batch>, typename Batch::quantity_type q) const
        -> std::optional<std::size_t> {
        const auto want = detail::count(q);
        if (tree_.size() < 2 || tree_[1] < want) return std::nullopt;
        std::size_t node = 1;
        while (node < leaves_) {
            node = tree_[2 * node] >= want ? 2 * node : 2 * node + 1;
        }
        return order_[node - leaves_];
    }

    /// The first batch at preference position `start` or later that can take `q`, or none.
    /// O(log B): climbs right from the start leaf, then descends.
    [[nodiscard]] auto find_from(std::size_t start, typename Batch::quantity_type q) const
        -> std::optional<std::size_t> {
        const auto p = position_from(start, detail::count(q));
        if (!p) return std::nullopt;
        return order_[*p];
    }

    /// Plans a split of `q` over the batches in preference order from position `start`, each
    /// taking what it has, until `q` is covered: appends (batch index, quantity) parts to `out`.
    /// Returns false (and `out` is unspecified) when the batches cannot cover `q`.
    /// O(k log B) for k parts.
    template <class Parts>
    auto plan_split_from(std::size_t start, std::span<const Batch> batches, typename Batch::quantity_type q,
                         Parts& out) const -> bool {
        auto remaining = detail::count(q);
        auto p = position_from(start, 1);
        while (p && remaining > 0) {
            const auto i = order_[*p];
            const auto take = std::min(remaining, detail::count(batches[i].available()));
            out.push_back({static_cast<std::uint32_t>(i),
                           detail::make_quantity<typename Batch::quantity_type>(take)});
            remaining -= take;
            p = position_from(*p + 1, 1);
        }
        return remaining == 0;
    }

    /// Splits `q` over the batches in preference order; see plan_split_from().
    template <class S, class Parts>
    auto plan_split(const S&, std::span<const Batch> batches, typename Batch::quantity_type q, Parts& out) const
        -> bool {
        return plan_split_from(0, batches, q, out);
    }

    /// Batch indices in preference order.
    [[nodiscard]] auto order() const noexcept -> std::span<const std::uint32_t> { return order_; }

private:
    // The first preference position >= start whose value is at least `want`.
    [[nodiscard]] auto position_from(std::size_t start, std::int64_t want) const noexcept
        -> std::optional<std::size_t> {
        if (start >= order_.size()) return std::nullopt;
        auto node = leaves_ + start;
        while (tree_[node] < want) {
            while ((node & 1) != 0) node >>= 1;  // climb while a right child
            if (node == 0) return std::nullopt;  // climbed past the root
            ++node;                              // the next range to the right
        }
        while (node < leaves_) node = tree_[2 * node] >= want ? 2 * node : 2 * node + 1;
        return node - leaves_;
    }

    template <class S>
    static auto value(const S& s, const Batch& b) -> std::int64_t {
        if (!eligible(s, b)) return -1;
        return detail::count(b.available());
    }

    std::vector<std::uint32_t> order_;     // preference position -> batch index
    std::vector<std::uint32_t> position_;  // batch index -> preference position
    std::vector<std::int64_t> tree_;       // 1-based segment tree of max available
    std::size_t leaves_ = 0;
};

template <class S, class Batch>
concept brings_index = requires { typename S::template index<Batch>; };

template <class S, class Batch>
struct index_for {
    using type = scan_index<Batch>;
};
template <class S, class Batch>
    requires(stable_batch_preference<S> && !brings_index<S, Batch>)
struct index_for<S, Batch> {
    using type = ordered_index<Batch>;
};
template <class S, class Batch>
    requires brings_index<S, Batch>
struct index_for<S, Batch> {
    using type = typename S::template index<Batch>;
};

}  // namespace detail

/// Optional: an index that plans split allocations itself. `index.plan_split(s, batches, q, out)`
/// appends (batch index, quantity) parts covering `q` to `out` in the order they should be
/// taken, and returns false when the batches cannot cover `q`.
template <class I, class S, class Batch, class Parts>
concept splitting_index =
    requires(const I& index, const S& s, std::span<const Batch> batches, typename Batch::quantity_type q, Parts& out) {
        { index.plan_split(s, batches, q, out) } -> std::convertible_to<bool>;
    };

namespace detail {

/// Plans a split of `q` over `batches`: with the index's own plan when it has one, else by
/// taking every eligible batch in preference order (O(B log B)).
template <class S, class Batch, class Index, class Parts>
auto plan_split(const Index& index, const S& s, std::span<const Batch> batches, typename Batch::quantity_type q,
                Parts& out) -> bool {
    if constexpr (splitting_index<Index, S, Batch, Parts>) {
        return static_cast<bool>(index.plan_split(s, batches, q, out));
    } else {
        return plan_split_by(s, batches, q, [&](const Batch& a, const Batch& b) { return s.prefers(a, b); }, out);
    }
}

}  // namespace detail

/// The index a product uses for strategy `S`: `S::index<Batch>` when the strategy brings its
/// own, else the ordered segment-tree index for a stable preference, else a scan.
template <class S, class Batch>
using index_t = typename detail::index_for<S, Batch>::type;

/// An allocation strategy: a batch preference served by a batch index.
template <class S, class Batch>
concept allocation_strategy =
    std::default_initializable<S> && batch_preference<S, Batch> && batch_index<index_t<S, Batch>, S, Batch>;

}  // namespace allocation

#endif  // ALLOCATION_STRATEGIES_STRATEGY_HPP
