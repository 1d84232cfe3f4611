// allocation — a product assembled from its stored rows (the SQLite and PostgreSQL stores).
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_COMMON_PRODUCT_ROWS_HPP
#define ALLOCATION_ADAPTERS_COMMON_PRODUCT_ROWS_HPP

#include <chrono>         // milliseconds
#include <cstddef>        // size_t
#include <cstdint>        // int64_t, uint64_t
#include <optional>       // optional
#include <unordered_map>  // unordered_map
#include <utility>        // move
#include <vector>         // vector

#include <allocation/adapters/common/store_base.hpp>
#include <allocation/domain/types.hpp>
#include <allocation/error.hpp>

namespace allocation::detail {

/// A hold's deadline as stored: milliseconds since the Unix epoch (UTC), exact.
[[nodiscard]] constexpr auto stored_time(timestamp t) noexcept -> std::int64_t {
    return static_cast<std::int64_t>(t.time_since_epoch().count());
}

/// A deadline from its stored milliseconds.
[[nodiscard]] constexpr auto make_time(std::int64_t ms) noexcept -> timestamp {
    return timestamp{std::chrono::milliseconds{ms}};
}

/// Collects the rows of one product as a database gives them, batches in insertion order and
/// allocations oldest first (interleaved with their batches, as a join gives them, or after
/// all of them), and its holds and backorders (any order), then builds the product and restores
/// them (basic_product::restore). A new product-level fact gets its own add_* here.
/// @tparam Product a basic_product.
template <class Product>
class product_rows {
public:
    explicit product_rows(typename Product::sku_type sku) : sku_(std::move(sku)) {}

    /// The next batch of the product.
    void add_batch(typename Product::batch_ref_type ref, typename Product::quantity_type purchased, std::optional<typename Product::date_type> eta,
                   std::optional<typename Product::date_type> expires) {
        index_.emplace(ref, batches_.size());
        batches_.push_back({std::move(ref), purchased, eta, expires, {}});
    }

    /// The next allocation of a batch already added; one of an unknown batch is ignored.
    void add_allocation(const typename Product::batch_ref_type& ref, typename Product::order_id_type order, typename Product::quantity_type qty) {
        std::size_t i = batches_.size() - 1;
        if (batches_.empty() || !(batches_.back().ref == ref)) {
            const auto it = index_.find(ref);
            if (it == index_.end()) return;
            i = it->second;
        }
        batches_[i].entries.push_back({std::move(order), qty});
    }

    /// A stored hold of the product (its batch by reference).
    void add_hold(typename Product::hold_type h) { facts_.holds.push_back(std::move(h)); }

    /// A stored backorder of the product.
    void add_backorder(typename Product::backorder_type b) { facts_.backorders.push_back(std::move(b)); }

    /// Whether a batch was added.
    [[nodiscard]] auto has_batch(const typename Product::batch_ref_type& ref) const -> bool { return index_.contains(ref); }

    /// The product, at its stored version and with its replenishment rule, made by `maker`, its
    /// holds and backorders restored. Errors: errc::storage_error when they do not fit its
    /// batches (a hold of an unknown batch, more held than a batch has).
    [[nodiscard]] auto build(std::uint64_t version, typename Product::replenishment_type rule,
                             const product_maker<Product>& maker) && -> result<Product> {
        std::vector<typename Product::batch_type> batches;
        batches.reserve(batches_.size());
        for (auto& b : batches_) {
            batches.emplace_back(std::move(b.ref), sku_, b.purchased, b.eta, b.expires, std::move(b.entries));
        }
        auto out = maker.rebuild(std::move(sku_), std::move(batches), version, std::move(rule));
        if (!facts_.holds.empty() || !facts_.backorders.empty()) {
            if (!out.restore(std::move(facts_))) return errc::storage_error;
        }
        return out;
    }

private:
    struct raw_batch {
        typename Product::batch_ref_type ref;
        typename Product::quantity_type purchased;
        std::optional<typename Product::date_type> eta, expires;
        std::vector<typename Product::batch_type::entry> entries;
    };
    typename Product::sku_type sku_;
    std::vector<raw_batch> batches_;
    std::unordered_map<typename Product::batch_ref_type, std::size_t> index_;
    typename Product::facts_type facts_;
};

}  // namespace allocation::detail

#endif  // ALLOCATION_ADAPTERS_COMMON_PRODUCT_ROWS_HPP
