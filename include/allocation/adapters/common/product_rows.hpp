// allocation — a product assembled from its stored rows (the SQLite and PostgreSQL stores), and the
// product factory every store makes and rebuilds its products with.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_COMMON_PRODUCT_ROWS_HPP
#define ALLOCATION_ADAPTERS_COMMON_PRODUCT_ROWS_HPP

#include <cstddef>        // size_t
#include <cstdint>        // uint64_t
#include <optional>       // optional
#include <unordered_map>  // unordered_map
#include <utility>        // move
#include <vector>         // vector

#include <allocation/domain/commands.hpp>
#include <allocation/ports/product_factory.hpp>

namespace allocation::detail {

/// The product factory of a store (see makes_products): new products are `make(sku, rule)`,
/// products rebuilt from storage get that product's strategy. Without a factory set, products
/// get a default strategy. Set it before the store's first unit of work; then thread-safe.
/// @tparam Product a basic_product.
template <class Product>
class product_maker {
public:
    using sku_type = typename Product::sku_type;
    using replenishment_type = basic_replenishment<typename Product::traits_type>;

    void set(product_factory<Product> make) { make_ = std::move(make); }

    /// A new product of `sku`.
    [[nodiscard]] auto make(const sku_type& sku, const replenishment_type& rule) const -> Product {
        return make_ ? make_(sku, rule) : Product{sku, rule};
    }

    /// A product as stored: its batches in insertion order, its stored version and rule, and the
    /// strategy make(sku, rule) gives.
    [[nodiscard]] auto rebuild(sku_type sku, std::vector<typename Product::batch_type> batches,
                               std::uint64_t version, replenishment_type rule) const -> Product {
        auto strategy = make_ ? make_(sku, rule).strategy() : typename Product::strategy_type{};
        return Product(std::move(sku), std::move(batches), version, std::move(rule), std::move(strategy));
    }

private:
    product_factory<Product> make_;
};

/// The part of a store that makes its products (makes_products), shared by every store.
template <class Product>
class makes_products_with {
public:
    /// Every product this store makes or reloads from now on is made by `make` (see
    /// product_factory). Set it before the first unit of work.
    void set_product_factory(product_factory<Product> make) { maker_.set(std::move(make)); }
    /// A new product, made by the product factory.
    [[nodiscard]] auto make_product(const typename Product::sku_type& sku,
                                    const basic_replenishment<typename Product::traits_type>& rule) const -> Product {
        return maker_.make(sku, rule);
    }

protected:
    [[nodiscard]] auto maker() const noexcept -> const product_maker<Product>& { return maker_; }

private:
    product_maker<Product> maker_;
};

/// Collects the rows of one product as a database gives them, batches in insertion order and
/// allocations oldest first (interleaved with their batches, as a join gives them, or after
/// all of them), then builds the product. A new product-level fact gets its own add_* here.
/// @tparam Product a basic_product.
template <class Product>
class product_rows {
public:
    using batch_type = typename Product::batch_type;
    using batch_ref_type = typename Product::batch_ref_type;
    using order_id_type = typename Product::order_id_type;
    using quantity_type = typename Product::quantity_type;
    using date_type = typename Product::date_type;

    explicit product_rows(typename Product::sku_type sku) : sku_(std::move(sku)) {}

    /// The next batch of the product.
    void add_batch(batch_ref_type ref, quantity_type purchased, std::optional<date_type> eta,
                   std::optional<date_type> expires) {
        index_.emplace(ref, batches_.size());
        batches_.push_back({std::move(ref), purchased, eta, expires, {}});
    }

    /// The next allocation of a batch already added; one of an unknown batch is ignored.
    void add_allocation(const batch_ref_type& ref, order_id_type order, quantity_type qty) {
        std::size_t i = batches_.size() - 1;
        if (batches_.empty() || !(batches_.back().ref == ref)) {
            const auto it = index_.find(ref);
            if (it == index_.end()) return;
            i = it->second;
        }
        batches_[i].entries.push_back({std::move(order), qty});
    }

    /// Whether a batch was added.
    [[nodiscard]] auto has_batch(const batch_ref_type& ref) const -> bool { return index_.contains(ref); }

    /// The product, at its stored version and with its replenishment rule, made by `maker`.
    [[nodiscard]] auto build(std::uint64_t version, typename Product::replenishment_type rule,
                             const product_maker<Product>& maker) && -> Product {
        std::vector<batch_type> batches;
        batches.reserve(batches_.size());
        for (auto& b : batches_) {
            batches.emplace_back(std::move(b.ref), sku_, b.purchased, b.eta, b.expires, std::move(b.entries));
        }
        return maker.rebuild(std::move(sku_), std::move(batches), version, std::move(rule));
    }

private:
    struct raw_batch {
        batch_ref_type ref;
        quantity_type purchased;
        std::optional<date_type> eta, expires;
        std::vector<typename batch_type::entry> entries;
    };
    typename Product::sku_type sku_;
    std::vector<raw_batch> batches_;
    std::unordered_map<batch_ref_type, std::size_t> index_;
};

}  // namespace allocation::detail

#endif  // ALLOCATION_ADAPTERS_COMMON_PRODUCT_ROWS_HPP
