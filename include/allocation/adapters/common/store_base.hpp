// allocation — what every store of the library shares besides its storage: its member types, the
// product factory it makes and rebuilds its products with, and the read port's members.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_COMMON_STORE_BASE_HPP
#define ALLOCATION_ADAPTERS_COMMON_STORE_BASE_HPP

#include <cstdint>   // uint64_t
#include <optional>  // optional
#include <utility>   // move
#include <vector>    // vector

#include <allocation/domain/commands.hpp>
#include <allocation/error.hpp>
#include <allocation/ports/product_factory.hpp>
#include <allocation/ports/product_reader.hpp>
#include <allocation/try.hpp>

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

/// The base of every store of the library (memory, SQLite, PostgreSQL): its product type, its
/// product factory (makes_products) and its reads of committed state
/// (product_reader). The store (`Derived`, a friend) serves the reads with
/// `reads(f) -> f(reader)`, `reader` having the same reads over what the store keeps
/// (its read model, its reader connection, a pooled connection).
/// @tparam Derived the store.
/// @tparam Product a basic_product.
template <class Derived, class Product>
class store_base {
public:
    using product_type = Product;
    using traits_type = typename Product::traits_type;

    /// Every product this store makes (new SKUs) or reloads from storage from now on is made by
    /// `make` (see product_factory): its strategy survives a reload. Set it before the store's
    /// first unit of work; bootstrap's with_strategy and with_product_factory set it.
    void set_product_factory(product_factory<Product> make) { maker_.set(std::move(make)); }
    /// A new product, made by the product factory.
    [[nodiscard]] auto make_product(const typename Product::sku_type& sku, const basic_replenishment<traits_type>& rule) const
        -> Product {
        return maker_.make(sku, rule);
    }

    /// The committed state of a product (its batches in preference order); none when unknown.
    /// Never waits for a unit of work. Errors: storage errors.
    auto read_product(const typename Product::sku_type& key) -> result<std::optional<basic_product_state<traits_type>>> {
        return self().reads([&](auto&& r) { return r.read_product(key); });
    }
    /// A committed batch; none when no product has it. Never waits for a unit of work.
    auto read_batch(const typename Product::batch_ref_type& ref) -> result<std::optional<basic_batch_state<traits_type>>> {
        return self().reads([&](auto&& r) { return r.read_batch(ref); });
    }
    /// Where an order's lines are allocated, in allocation order. Never waits for a unit of work.
    auto read_allocations(const typename Product::order_id_type& order) -> result<std::vector<basic_line_allocation<traits_type>>> {
        return self().reads([&](auto&& r) { return r.read_allocations(order); });
    }

    /// The order's holds not swept yet, one per SKU, in SKU order (reads_holds). Never waits
    /// for a unit of work.
    auto read_holds(const typename Product::order_id_type& order) -> result<std::vector<basic_held_line<traits_type>>> {
        return self().reads([&](auto&& r) { return r.read_holds(order); });
    }

protected:
    store_base() = default;
    [[nodiscard]] auto maker() const noexcept -> const product_maker<Product>& { return maker_; }

private:
    auto self() noexcept -> Derived& { return static_cast<Derived&>(*this); }

    product_maker<Product> maker_;
};

/// The base of the readers of stores that load products from their rows (SQLite, PostgreSQL):
/// read_product() is the state of the product `Reader::load(sku)` gives (none when unknown).
/// @tparam Reader the reader, with `load(sku) -> result<std::optional<Product>>`.
/// @tparam Product a basic_product.
template <class Reader, class Product>
class loading_reader {
public:
    /// The committed state of a product (its batches in preference order); none when unknown.
    auto read_product(const typename Product::sku_type& key)
        -> result<std::optional<basic_product_state<typename Product::traits_type>>> {
        ALLOCATION_TRY(loaded, static_cast<Reader&>(*this).load(key));
        if (!loaded) return std::optional<basic_product_state<typename Product::traits_type>>{};
        return std::optional(state_of(*loaded));
    }

protected:
    loading_reader() = default;
};

}  // namespace allocation::detail

#endif  // ALLOCATION_ADAPTERS_COMMON_STORE_BASE_HPP
