// allocation — the product factory: how a store makes the product of a SKU (its strategy, a FEFO
// calendar, a strategy configured at run time), for new products and for the ones it reloads.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_PORTS_PRODUCT_FACTORY_HPP
#define ALLOCATION_PORTS_PRODUCT_FACTORY_HPP

#include <concepts>    // same_as
#include <functional>  // function
#include <utility>     // move

#include <allocation/domain/commands.hpp>

namespace allocation {

/// Makes the product of a SKU with the replenishment rule it starts with: `make(sku, rule)`. A
/// store uses it for the products it creates, and takes the strategy of `make(sku, rule)` for a
/// product it reloads from storage (its batches, version and rule are the stored ones).
template <class Product>
using product_factory =
    std::function<Product(const typename Product::sku_type&, const basic_replenishment<typename Product::traits_type>&)>;

/// The product factory giving every product a copy of `strategy`.
template <class Product>
[[nodiscard]] auto strategy_factory(typename Product::strategy_type strategy) -> product_factory<Product> {
    return [s = std::move(strategy)](const typename Product::sku_type& code,
                                     const basic_replenishment<typename Product::traits_type>& rule) {
        return Product{code, rule, s};
    };
}

/// A store that makes its products with one product factory: `s.make_product(sku, rule)` makes a
/// new one, the products it reloads get the same factory's strategy, and
/// `s.set_product_factory(f)` sets that factory (before the store's first unit of work). The
/// library's stores model it; the message bus then creates products through the store.
template <class S>
concept makes_products =
    requires(S& s, const S& cs, const typename S::product_type::sku_type& key,
             const basic_replenishment<typename S::product_type::traits_type>& rule,
             product_factory<typename S::product_type> make) {
        { cs.make_product(key, rule) } -> std::same_as<typename S::product_type>;
        s.set_product_factory(std::move(make));
    };

}  // namespace allocation

#endif  // ALLOCATION_PORTS_PRODUCT_FACTORY_HPP
