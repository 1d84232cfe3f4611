// allocation — PostgreSQL adapter: reads of committed state (the product_reader port), plain
// statements on a pooled connection that lock no row and wait for no writer.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_POSTGRES_READER_HPP
#define ALLOCATION_ADAPTERS_POSTGRES_READER_HPP

#include <optional>  // optional
#include <vector>    // vector

#include <fmt/format.h>
#include <pqxx/pqxx>

#include <allocation/adapters/common/store_base.hpp>
#include <allocation/adapters/postgres/codec.hpp>
#include <allocation/adapters/postgres/connection.hpp>
#include <allocation/domain/commands.hpp>
#include <allocation/error.hpp>
#include <allocation/ports/product_reader.hpp>

namespace allocation::postgres::detail {

/// Reads of committed state on connections of a pool: the reads of product_reader, each one
/// plain statement (one snapshot) that locks no row.
/// @tparam Product a basic_product.
template <class Product>
class reader : public allocation::detail::loading_reader<reader<Product>, Product> {
    using traits = typename Product::traits_type;
    using q = typename traits::quantity_type;

public:
    reader(connection_pool& pool, const allocation::detail::product_maker<Product>& maker) noexcept
        : pool_(&pool), maker_(&maker) {}

    /// A product as committed, read in one statement (one snapshot); none when unknown.
    auto load(const typename traits::sku_type& key) -> result<std::optional<Product>> {
        return with_connection(*pool_, [&](pqxx::connection& c) {
            std::optional<Product> out;
            const auto rows = product_rows(c, key);
            if (!rows.empty()) out = decode_product<Product>(key, rows, *maker_);
            return out;
        });
    }

    /// A committed batch; none when no product has it. Its `held` counts every stored hold of it,
    /// as the product loaded from the rows does until it is given a time.
    auto read_batch(const typename traits::batch_ref_type& ref) -> result<std::optional<basic_batch_state<traits>>> {
        return with_connection(*pool_, [&](pqxx::connection& c) {
            std::optional<basic_batch_state<traits>> out;
            const auto rows = exec(c, "SELECT sku, purchased, allocated, to_char(eta, 'YYYY-MM-DD'), "
                                      "to_char(expires, 'YYYY-MM-DD'), (SELECT coalesce(sum(h.qty), 0) FROM holds h WHERE "
                                      "h.batch_ref = b.ref) FROM batches b WHERE ref = " + sql(c, ref));
            if (!rows.empty()) {
                const auto& r = rows[0];
                out = basic_batch_state<traits>{ref, read_id<typename traits::sku_type>(r[0]), read_qty<q>(r[1]),
                                                read_qty<q>(r[2]), read_date(r[3]), read_date(r[4]), read_qty<q>(r[5])};
            }
            return out;
        });
    }

    /// Where an order's lines are allocated, in allocation order.
    auto read_allocations(const typename traits::order_id_type& order)
        -> result<std::vector<basic_line_allocation<traits>>> {
        return with_connection(*pool_, [&](pqxx::connection& c) {
            std::vector<basic_line_allocation<traits>> out;
            const auto rows = exec(c, "SELECT b.sku, a.qty, a.batch_ref FROM allocations a JOIN batches b ON b.ref = "
                                      "a.batch_ref WHERE a.orderid = " + sql(c, order) + " ORDER BY a.id");
            out.reserve(rows.size());
            for (const auto& r : rows) {
                out.push_back({read_id<typename traits::sku_type>(r[0]), read_qty<q>(r[1]),
                               read_id<typename traits::batch_ref_type>(r[2])});
            }
            return out;
        });
    }

    /// The order's holds not swept yet, in SKU order (see reads_holds).
    auto read_holds(const typename traits::order_id_type& order) -> result<std::vector<basic_held_line<traits>>> {
        return with_connection(*pool_, [&](pqxx::connection& c) {
            std::vector<basic_held_line<traits>> out;
            const auto rows = exec(c, "SELECT sku, batch_ref, qty, expires_at, lines, sequence FROM holds WHERE orderid = " +
                                          sql(c, order) + " ORDER BY sku");
            out.reserve(rows.size());
            for (const auto& r : rows) {
                out.push_back({read_id<typename traits::sku_type>(r[0]),
                               {order, read_qty<q>(r[2]), read_id<typename traits::batch_ref_type>(r[1]),
                                allocation::detail::make_time(r[3].template as<std::int64_t>()), r[4].template as<std::uint32_t>(),
                                r[5].template as<std::uint64_t>()}});
            }
            return out;
        });
    }

    /// The SKUs of the products with a hold not swept yet whose deadline is at or before `now`.
    auto skus_with_holds_due(timestamp now) -> result<std::vector<typename traits::sku_type>> {
        return with_connection(*pool_, [&](pqxx::connection& c) {
            std::vector<typename traits::sku_type> out;
            const auto rows = exec(c, fmt::format("SELECT DISTINCT sku FROM holds WHERE expires_at <= {}",
                                                  allocation::detail::stored_time(now)));
            for (const auto& r : rows) out.push_back(read_id<typename traits::sku_type>(r[0]));
            return out;
        });
    }

private:
    connection_pool* pool_;
    const allocation::detail::product_maker<Product>* maker_;
};

}  // namespace allocation::postgres::detail

#endif  // ALLOCATION_ADAPTERS_POSTGRES_READER_HPP
