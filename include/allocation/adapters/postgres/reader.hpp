// allocation — PostgreSQL adapter: reads of committed state (the product_reader port), plain
// statements on a pooled connection that lock no row and wait for no writer.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_POSTGRES_READER_HPP
#define ALLOCATION_ADAPTERS_POSTGRES_READER_HPP

#include <optional>  // optional
#include <vector>    // vector

#include <pqxx/pqxx>

#include <allocation/adapters/postgres/codec.hpp>
#include <allocation/adapters/postgres/connection.hpp>
#include <allocation/domain/commands.hpp>
#include <allocation/error.hpp>
#include <allocation/ports/product_reader.hpp>

namespace allocation::postgres::detail {

/// The committed state of a product, read in one statement (one snapshot); none when unknown.
template <class Product>
auto read_product(connection_pool& pool, const typename Product::sku_type& key,
                  const allocation::detail::product_maker<Product>& maker)
    -> result<std::optional<basic_product_state<typename Product::traits_type>>> {
    return with_connection(pool, [&](pqxx::connection& c) {
        std::optional<basic_product_state<typename Product::traits_type>> out;
        const auto rows = exec(c, product_select(c, key));
        if (!rows.empty()) out = state_of(decode_product<Product>(key, rows, maker));
        return out;
    });
}

/// A committed batch; none when no product has it.
template <class Traits>
auto read_batch(connection_pool& pool, const typename Traits::batch_ref_type& ref)
    -> result<std::optional<basic_batch_state<Traits>>> {
    using q = typename Traits::quantity_type;
    return with_connection(pool, [&](pqxx::connection& c) {
        std::optional<basic_batch_state<Traits>> out;
        const auto rows = exec(c, "SELECT sku, purchased, allocated, to_char(eta, 'YYYY-MM-DD'), "
                                  "to_char(expires, 'YYYY-MM-DD') FROM batches WHERE ref = " + sql(c, ref));
        if (!rows.empty()) {
            const auto& r = rows[0];
            out = basic_batch_state<Traits>{ref, read_id<typename Traits::sku_type>(r[0]), read_qty<q>(r[1]),
                                            read_qty<q>(r[2]), read_date(r[3]), read_date(r[4])};
        }
        return out;
    });
}

/// Where an order's lines are allocated, in allocation order.
template <class Traits>
auto read_allocations(connection_pool& pool, const typename Traits::order_id_type& order)
    -> result<std::vector<basic_line_allocation<Traits>>> {
    return with_connection(pool, [&](pqxx::connection& c) {
        std::vector<basic_line_allocation<Traits>> out;
        const auto rows = exec(c, "SELECT b.sku, a.qty, a.batch_ref FROM allocations a JOIN batches b ON b.ref = "
                                  "a.batch_ref WHERE a.orderid = " + sql(c, order) + " ORDER BY a.id");
        out.reserve(rows.size());
        for (const auto& r : rows) {
            out.push_back({read_id<typename Traits::sku_type>(r[0]), read_qty<typename Traits::quantity_type>(r[1]),
                           read_id<typename Traits::batch_ref_type>(r[2])});
        }
        return out;
    });
}

}  // namespace allocation::postgres::detail

#endif  // ALLOCATION_ADAPTERS_POSTGRES_READER_HPP
