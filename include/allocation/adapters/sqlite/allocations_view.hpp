// allocation — the SQLite allocations read model: order id -> [(SKU, batch reference)], written
// by the store's commits in the same transaction as the allocations, read here.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_SQLITE_ALLOCATIONS_VIEW_HPP
#define ALLOCATION_ADAPTERS_SQLITE_ALLOCATIONS_VIEW_HPP

#include <sqlite3.h>

#include <vector>  // vector

#include <allocation/adapters/sqlite/codec.hpp>
#include <allocation/adapters/sqlite/connection.hpp>
#include <allocation/adapters/sqlite/store.hpp>
#include <allocation/error.hpp>
#include <allocation/ports/allocations_view.hpp>

namespace allocation::sqlite {

/// Reads the allocations read model of a store. It offers the `get` of the allocations_view
/// port only: the store keeps the table up to date itself, so this is not given to bootstrap()
/// (which would add the rows a second time). Thread-safe.
template <class Product>
class basic_allocations_view {
public:
    using traits_type = typename Product::traits_type;
    using order_id_type = typename traits_type::order_id_type;
    using row_type = basic_allocation_row<traits_type>;

    explicit basic_allocations_view(basic_store<Product>& s) noexcept : store_(&s) {}

    /// The rows of an order, in the order they were written; empty when it has none.
    auto get(const order_id_type& order) const -> result<std::vector<row_type>> {
        return store_->with_reader_session([&](detail::session& s) -> result<std::vector<row_type>> {
            auto& st = s.view_get;
            st.bind(1, detail::id_text(order));
            std::vector<row_type> out;
            int rc = 0;
            while ((rc = st.step()) == SQLITE_ROW) {
                out.push_back({detail::make_id<typename traits_type::sku_type>(st.text(0)),
                               detail::make_id<typename traits_type::batch_ref_type>(st.text(1))});
            }
            st.reset();
            if (rc != SQLITE_DONE) return errc::storage_error;
            return out;
        });
    }

private:
    basic_store<Product>* store_;
};

template <class Product>
basic_allocations_view(basic_store<Product>&) -> basic_allocations_view<Product>;
using allocations_view = basic_allocations_view<allocation::product>;

}  // namespace allocation::sqlite

#endif  // ALLOCATION_ADAPTERS_SQLITE_ALLOCATIONS_VIEW_HPP
