// allocation — PostgreSQL adapter: the transactional outbox, handed to an EventPublisher by the
// relay, which marks its events sent (at-least-once).
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_POSTGRES_OUTBOX_HPP
#define ALLOCATION_ADAPTERS_POSTGRES_OUTBOX_HPP

#include <algorithm>    // min
#include <cstddef>      // size_t
#include <cstdint>      // int64_t
#include <memory>       // shared_ptr
#include <span>         // span
#include <string>       // string
#include <vector>       // vector

#include <fmt/format.h>
#include <pqxx/pqxx>

#include <allocation/adapters/common/outbox_row.hpp>
#include <allocation/adapters/common/relay.hpp>
#include <allocation/adapters/postgres/codec.hpp>
#include <allocation/adapters/postgres/connection.hpp>
#include <allocation/adapters/postgres/pooled_store.hpp>
#include <allocation/domain/product.hpp>
#include <allocation/error.hpp>
#include <allocation/try.hpp>

namespace allocation::postgres {

template <class Product>
class basic_store;
template <class Product>
class basic_grouped_store;

/// The outbox of a store (basic_store or basic_grouped_store, which write events alike): every
/// event a commit wrote, with its stable id (increasing in commit order). relay() publishes the
/// unsent ones in id order and marks them sent; a crash between publishing and marking
/// publishes them again (at-least-once: consumers de-duplicate by id when they must). Several
/// relays, in one process or several, may run at once: each unsent event is taken by one of
/// them (FOR UPDATE SKIP LOCKED). Thread-safe.
template <class Product>
class basic_outbox : public allocation::detail::relaying_outbox<basic_outbox<Product>, typename Product::traits_type> {
    using traits_type = typename Product::traits_type;

public:
    using record = allocation::detail::basic_outbox_record<traits_type>;

    /// The outbox of either PostgreSQL store of `Product`; it shares the store's pool.
    template <class Store>
    explicit basic_outbox(detail::pooled_store<Store, Product>& s) noexcept : pool_(s.pool()) {}

    /// Up to `max` events with an id greater than `after`, in id order, sent or not.
    /// Errors: errc::storage_error.
    auto read(std::int64_t after = 0, std::size_t max = 1000) -> result<std::vector<record>> {
        return load(fmt::format("SELECT {} FROM outbox WHERE id > {} ORDER BY id LIMIT {}", detail::outbox_columns,
                                after, max));
    }

    /// Up to `max` unsent events, in id order. Errors: errc::storage_error.
    auto unsent(std::size_t max = 1000) -> result<std::vector<record>> {
        return load(fmt::format("SELECT {} FROM outbox WHERE NOT sent ORDER BY id LIMIT {}", detail::outbox_columns,
                                max));
    }

    /// The number of unsent events. Errors: errc::storage_error.
    auto pending() -> result<std::size_t> {
        return detail::with_connection(*pool_, [](pqxx::connection& c) {
            return detail::exec(c, "SELECT count(*) FROM outbox WHERE NOT sent")[0][0].template as<std::size_t>();
        });
    }

    /// Gives up to `max` unsent events, oldest first, to `take(std::span<const record>)`, which
    /// returns how many of them it took (the first ones), and marks those sent; returns that
    /// number, in one transaction that locks
    /// the rows it reads and skips the ones another relay locked. Errors: errc::storage_error.
    template <class Take>
    auto take_unsent(std::size_t max, Take&& take) -> result<std::size_t> {
        return detail::with_connection(*pool_, [&](pqxx::connection& c) {
            pqxx::work tx(c);
            const auto rows = tx.exec(fmt::format(
                "SELECT {} FROM outbox WHERE NOT sent ORDER BY id LIMIT {} FOR UPDATE SKIP LOCKED",
                detail::outbox_columns, max));
            std::vector<record> records;
            std::vector<pqxx::result::size_type> row_of;  // the row of each record
            for (pqxx::result::size_type i = 0; i < rows.size(); ++i) {
                if (auto r = detail::read_outbox_record<traits_type>(rows[i])) {
                    records.push_back(std::move(*r));
                    row_of.push_back(i);
                }
            }
            const std::size_t taken = take(std::span<const record>(records));
            // Rows of unknown channels before the first record not taken are marked too.
            const auto done = taken < records.size() ? row_of[taken] : rows.size();
            std::string sent;
            for (pqxx::result::size_type i = 0; i < done; ++i) {
                sent += sent.empty() ? "" : ",";
                sent += rows[i][0].c_str();
            }
            if (!sent.empty()) tx.exec("UPDATE outbox SET sent = true WHERE id IN (" + sent + ")");
            tx.commit();
            return std::min(taken, records.size());
        });
    }

    /// Marks events sent. Errors: errc::storage_error.
    auto mark_sent(const std::vector<std::int64_t>& ids) -> result<void> {
        if (ids.empty()) return success();
        std::string list;
        for (const auto id : ids) list += fmt::format("{}{}", list.empty() ? "" : ",", id);
        return detail::with_connection(*pool_, [&](pqxx::connection& c) {
            detail::exec(c, "UPDATE outbox SET sent = true WHERE id IN (" + list + ")");
        });
    }

private:
    auto load(const std::string& sql) -> result<std::vector<record>> {
        return detail::with_connection(*pool_, [&](pqxx::connection& c) {
            std::vector<record> out;
            for (const auto& row : detail::exec(c, sql)) {
                if (auto r = detail::read_outbox_record<traits_type>(row)) out.push_back(std::move(*r));
            }
            return out;
        });
    }

    std::shared_ptr<detail::connection_pool> pool_;
};

template <class Product>
basic_outbox(basic_store<Product>&) -> basic_outbox<Product>;
template <class Product>
basic_outbox(basic_grouped_store<Product>&) -> basic_outbox<Product>;
/// The outbox of the default product's store.
using outbox = basic_outbox<allocation::product>;

}  // namespace allocation::postgres

#endif  // ALLOCATION_ADAPTERS_POSTGRES_OUTBOX_HPP
