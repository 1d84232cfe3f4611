// allocation — SQLite adapter: reads of committed state (the product_reader port) on the
// store's reader connection, which never hold a product nor wait for a writer.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_SQLITE_READER_HPP
#define ALLOCATION_ADAPTERS_SQLITE_READER_HPP

#include <optional>  // optional
#include <vector>    // vector

#include <allocation/adapters/sqlite/codec.hpp>
#include <allocation/domain/commands.hpp>
#include <allocation/error.hpp>
#include <allocation/ports/product_reader.hpp>
#include <allocation/try.hpp>

namespace allocation::sqlite::detail {

/// The committed state of a product, loaded in a read transaction; none when unknown.
template <class Product>
auto read_product(session& s, const typename Product::sku_type& key, const allocation::detail::product_maker<Product>& maker)
    -> result<std::optional<basic_product_state<typename Product::traits_type>>> {
    ALLOCATION_TRY(loaded, load<Product>(s, key, maker));
    if (!loaded) return std::optional<basic_product_state<typename Product::traits_type>>{};
    return std::optional(state_of(*loaded));
}

/// A committed batch; none when no product has it.
template <class Traits>
auto read_batch(session& s, const typename Traits::batch_ref_type& ref)
    -> result<std::optional<basic_batch_state<Traits>>> {
    using q = typename Traits::quantity_type;
    return query_one(s.batch_state, id_column(ref), [&](const statement& st) {
        return basic_batch_state<Traits>{ref,
                                         make_id<typename Traits::sku_type>(st.text(0)),
                                         allocation::detail::make_quantity<q>(st.int64(1)),
                                         allocation::detail::make_quantity<q>(st.int64(4)),
                                         read_date<typename Traits::date_type>(st, 2),
                                         read_date<typename Traits::date_type>(st, 3)};
    });
}

/// Where an order's lines are allocated, in allocation order.
template <class Traits>
auto read_allocations(session& s, const typename Traits::order_id_type& order)
    -> result<std::vector<basic_line_allocation<Traits>>> {
    std::vector<basic_line_allocation<Traits>> out;
    ALLOCATION_TRYV(query_each(s.order_allocations, id_column(order), [&](const statement& st) {
        out.push_back({make_id<typename Traits::sku_type>(st.text(0)),
                       allocation::detail::make_quantity<typename Traits::quantity_type>(st.int64(1)),
                       make_id<typename Traits::batch_ref_type>(st.text(2))});
    }));
    return out;
}

}  // namespace allocation::sqlite::detail

#endif  // ALLOCATION_ADAPTERS_SQLITE_READER_HPP
