// allocation — SQLite adapter: reads of committed state (the product_reader port) on the
// store's reader connection, which never hold a product nor wait for a writer.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_SQLITE_READER_HPP
#define ALLOCATION_ADAPTERS_SQLITE_READER_HPP

#include <optional>  // optional
#include <vector>    // vector

#include <allocation/adapters/common/store_base.hpp>
#include <allocation/adapters/sqlite/codec.hpp>
#include <allocation/domain/commands.hpp>
#include <allocation/error.hpp>
#include <allocation/ports/product_reader.hpp>
#include <allocation/try.hpp>

namespace allocation::sqlite::detail {

/// Reads of committed state on one session (the store's reader connection, held by the caller):
/// the reads of product_reader, each in one read transaction or one statement.
/// @tparam Product a basic_product.
template <class Product>
class reader : public allocation::detail::loading_reader<reader<Product>, Product> {
    using traits = typename Product::traits_type;

public:
    reader(session& s, const allocation::detail::product_maker<Product>& maker) noexcept : s_(&s), maker_(&maker) {}

    /// A product as committed, loaded in one read transaction; none when unknown.
    auto load(const typename traits::sku_type& key) -> result<std::optional<Product>> {
        return sqlite::detail::load<Product>(*s_, key, *maker_);
    }

    /// A committed batch; none when no product has it. Its `held` counts every stored hold of it,
    /// as the product loaded from the rows does until it is given a time (see load()).
    auto read_batch(const typename traits::batch_ref_type& ref) -> result<std::optional<basic_batch_state<traits>>> {
        using q = typename traits::quantity_type;
        return query_one(s_->batch_state, id_column(ref), [&](const statement& st) {
            return basic_batch_state<traits>{ref,
                                             make_id<typename traits::sku_type>(st.text(0)),
                                             allocation::detail::make_quantity<q>(st.int64(1)),
                                             allocation::detail::make_quantity<q>(st.int64(4)),
                                             read_date<typename traits::date_type>(st, 2),
                                             read_date<typename traits::date_type>(st, 3),
                                             allocation::detail::make_quantity<q>(st.int64(5))};
        });
    }

    /// Where an order's lines are allocated, in allocation order.
    auto read_allocations(const typename traits::order_id_type& order)
        -> result<std::vector<basic_line_allocation<traits>>> {
        std::vector<basic_line_allocation<traits>> out;
        ALLOCATION_TRYV(query_each(s_->order_allocations, id_column(order), [&](const statement& st) {
            out.push_back({make_id<typename traits::sku_type>(st.text(0)),
                           allocation::detail::make_quantity<typename traits::quantity_type>(st.int64(1)),
                           make_id<typename traits::batch_ref_type>(st.text(2))});
        }));
        return out;
    }

    /// The order's holds not swept yet, in SKU order (see reads_holds).
    auto read_holds(const typename traits::order_id_type& order) -> result<std::vector<basic_held_line<traits>>> {
        std::vector<basic_held_line<traits>> out;
        ALLOCATION_TRYV(query_each(s_->order_holds, id_column(order), [&](const statement& st) {
            out.push_back({make_id<typename traits::sku_type>(st.text(0)), read_hold_row<traits>(st)});
        }));
        return out;
    }

    /// The SKUs of the products with a hold not swept yet whose deadline is at or before `now`.
    auto skus_with_holds_due(timestamp now) -> result<std::vector<typename traits::sku_type>> {
        std::vector<typename traits::sku_type> out;
        ALLOCATION_TRYV(query_each(s_->holds_due, allocation::detail::stored_time(now),
                                   [&](const statement& st) { out.push_back(make_id<typename traits::sku_type>(st.text(0))); }));
        return out;
    }

private:
    session* s_;
    const allocation::detail::product_maker<Product>* maker_;
};

}  // namespace allocation::sqlite::detail

#endif  // ALLOCATION_ADAPTERS_SQLITE_READER_HPP
