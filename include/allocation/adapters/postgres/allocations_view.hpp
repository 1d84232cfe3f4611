// allocation — PostgreSQL adapter: the allocations read model, order id -> [(SKU, batch)].
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_POSTGRES_ALLOCATIONS_VIEW_HPP
#define ALLOCATION_ADAPTERS_POSTGRES_ALLOCATIONS_VIEW_HPP

#include <memory>     // shared_ptr
#include <utility>    // move
#include <vector>     // vector

#include <allocation/adapters/postgres/codec.hpp>
#include <allocation/adapters/postgres/connection.hpp>
#include <allocation/adapters/postgres/store.hpp>
#include <allocation/error.hpp>
#include <allocation/ports/allocations_view.hpp>

namespace allocation::postgres {

/// The allocations read model of a PostgreSQL store. The rows come from the allocations_view
/// SQL view, over what units of work commit, so they are up to date as soon as a commit is, in
/// every process; add() and remove(), which the message bus calls from Allocated and
/// Deallocated events, have nothing to do (so giving it to bootstrap() or not makes no
/// difference). A line's rows come in allocation order. Thread-safe.
template <class Product>
class basic_allocations_view {
public:
    using traits_type = typename Product::traits_type;
    using order_id_type = typename traits_type::order_id_type;
    using sku_type = typename traits_type::sku_type;
    using batch_ref_type = typename traits_type::batch_ref_type;
    using row_type = basic_allocation_row<traits_type>;

    explicit basic_allocations_view(basic_store<Product>& s) noexcept : pool_(s.pool()) {}

    /// Nothing to do: the view follows the committed allocations.
    auto add(const order_id_type&, const sku_type&, const batch_ref_type&) -> result<void> { return success(); }
    /// Nothing to do: the view follows the committed allocations.
    auto remove(const order_id_type&, const sku_type&) -> result<void> { return success(); }

    /// Where the order's lines are allocated; empty when nowhere. Errors: errc::storage_error.
    auto get(const order_id_type& order) const -> result<std::vector<row_type>> {
        return detail::with_connection(*pool_, [&](pqxx::connection& c) {
            const auto rows = detail::exec(
                c, "SELECT sku, batchref FROM allocations_view WHERE orderid = " + detail::sql(c, order) + " ORDER BY id");
            std::vector<row_type> out;
            out.reserve(rows.size());
            for (const auto& r : rows) {
                out.push_back({detail::read_id<sku_type>(r[0]), detail::read_id<batch_ref_type>(r[1])});
            }
            return out;
        });
    }

private:
    std::shared_ptr<detail::connection_pool> pool_;
};
template <class Product>
basic_allocations_view(basic_store<Product>&) -> basic_allocations_view<Product>;
using allocations_view = basic_allocations_view<allocation::product>;

static_assert(allocation::allocations_view<allocations_view>);

}  // namespace allocation::postgres

#endif  // ALLOCATION_ADAPTERS_POSTGRES_ALLOCATIONS_VIEW_HPP
