// allocation — the Repository port: where a unit of work finds and adds products.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_PORTS_REPOSITORY_HPP
#define ALLOCATION_PORTS_REPOSITORY_HPP

#include <concepts>  // same_as
#include <ranges>    // range, range_value_t
#include <utility>   // move

#include <allocation/error.hpp>

namespace allocation {

/// Names the product type a repository stores.
template <class R>
concept names_product_type = requires { typename R::product_type; };

/// `repo.add(product)` stages a new product; it becomes visible to others at commit.
template <class R>
concept adds_products = names_product_type<R> && requires(R& repo, typename R::product_type p) {
    { repo.add(std::move(p)) } -> std::same_as<result<void>>;
};

/// `repo.get(sku)` gives the product of a SKU, or nullptr when the SKU is unknown.
template <class R>
concept gets_products_by_sku =
    names_product_type<R> && requires(R& repo, const typename R::product_type::sku_type& key) {
        { repo.get(key) } -> std::same_as<result<typename R::product_type*>>;
    };

/// `repo.get_by_batch_ref(ref)` gives the product owning a batch, or nullptr.
template <class R>
concept gets_products_by_batch_ref =
    names_product_type<R> && requires(R& repo, const typename R::product_type::batch_ref_type& ref) {
        { repo.get_by_batch_ref(ref) } -> std::same_as<result<typename R::product_type*>>;
    };

/// `repo.seen()` lists every product it handed out, so their events can be collected.
template <class R>
concept tracks_seen_products = names_product_type<R> && requires(R& repo) {
    { repo.seen() } -> std::ranges::range;
    requires std::same_as<std::ranges::range_value_t<decltype(repo.seen())>, typename R::product_type*>;
};

/// A repository of products: the storage a unit of work works through.
template <class R>
concept repository =
    adds_products<R> && gets_products_by_sku<R> && gets_products_by_batch_ref<R> && tracks_seen_products<R>;

}  // namespace allocation

#endif  // ALLOCATION_PORTS_REPOSITORY_HPP
