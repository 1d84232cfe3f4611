// allocation — PostgreSQL adapter: the transactional outbox and its relay.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_POSTGRES_OUTBOX_HPP
#define ALLOCATION_ADAPTERS_POSTGRES_OUTBOX_HPP

#include <cstddef>      // size_t
#include <cstdint>      // int64_t
#include <exception>    // current_exception
#include <memory>       // shared_ptr
#include <optional>     // optional
#include <string>       // string
#include <string_view>  // string_view
#include <type_traits>  // invoke_result_t, is_same_v, remove_cvref_t
#include <utility>      // move, as_const
#include <variant>      // visit
#include <vector>       // vector

#include <fmt/format.h>
#include <pqxx/pqxx>

#include <allocation/adapters/postgres/codec.hpp>
#include <allocation/adapters/postgres/connection_pool.hpp>
#include <allocation/domain/events.hpp>
#include <allocation/domain/product.hpp>
#include <allocation/error.hpp>
#include <allocation/ports/publisher.hpp>
#include <allocation/try.hpp>

namespace allocation::postgres {

namespace detail {

/// The VALUES tuple of an outbox row for `e`.
template <class Traits>
[[nodiscard]] auto outbox_values(pqxx::connection& c, const events::basic_event<Traits>& ev) -> std::string {
    return std::visit(
        [&](const auto& e) -> std::string {
            using E = std::remove_cvref_t<decltype(e)>;
            const auto channel = quote(c, events::channel_v<E>);
            // (channel, sku, orderid, batchref, qty, qty2, eta, reason); see schema.hpp
            if constexpr (std::is_same_v<E, events::basic_batch_created<Traits>>) {
                return fmt::format("({},{},NULL,{},{},NULL,{},NULL)", channel, sql(c, e.sku), sql(c, e.ref),
                                   sql_qty(e.qty), sql_date(e.eta));
            } else if constexpr (std::is_same_v<E, events::basic_allocated<Traits>>) {
                return fmt::format("({},{},{},{},{},NULL,NULL,NULL)", channel, sql(c, e.sku), sql(c, e.order),
                                   sql(c, e.batch), sql_qty(e.qty));
            } else if constexpr (std::is_same_v<E, events::basic_deallocated<Traits>>) {
                const auto* reason = e.reason == deallocation_reason::batch_shrunk ? "'batch_shrunk'" : "'requested'";
                return fmt::format("({},{},{},{},{},NULL,NULL,{})", channel, sql(c, e.sku), sql(c, e.order),
                                   sql(c, e.batch), sql_qty(e.qty), reason);
            } else if constexpr (std::is_same_v<E, events::basic_out_of_stock<Traits>>) {
                return fmt::format("({},{},{},NULL,{},NULL,NULL,NULL)", channel, sql(c, e.sku), sql(c, e.order),
                                   sql_qty(e.qty));
            } else if constexpr (std::is_same_v<E, events::basic_low_stock<Traits>>) {
                return fmt::format("({},{},NULL,NULL,{},{},NULL,NULL)", channel, sql(c, e.sku), sql_qty(e.available),
                                   sql_qty(e.reorder_qty));
            } else {
                static_assert(std::is_same_v<E, events::basic_batch_quantity_changed<Traits>>);
                return fmt::format("({},{},NULL,{},{},{},NULL,NULL)", channel, sql(c, e.sku), sql(c, e.ref),
                                   sql_qty(e.new_qty), sql_qty(e.old_qty));
            }
        },
        ev);
}

/// The INSERT writing `events` to the outbox, or nothing for none.
template <class Traits, class Range>
[[nodiscard]] auto outbox_insert(pqxx::connection& c, const Range& evs) -> std::string {
    std::string out;
    for (const auto& e : evs) {
        out += out.empty() ? "INSERT INTO outbox (channel, sku, orderid, batchref, qty, qty2, eta, reason) VALUES "
                           : ",";
        out += outbox_values<Traits>(c, e);
    }
    if (!out.empty()) out += ";\n";
    return out;
}

inline constexpr std::string_view outbox_columns =
    "id, channel, sku, orderid, batchref, qty, qty2, to_char(eta, 'YYYY-MM-DD'), reason, sent";

/// An outbox row read back.
template <class Traits>
struct outbox_row {
    std::int64_t id = 0;
    std::string channel;
    events::basic_event<Traits> event;
    bool sent = false;
};

/// The event of an outbox row selected with outbox_columns; none for an unknown channel.
template <class Traits>
[[nodiscard]] auto read_outbox_row(const pqxx::row& row) -> std::optional<outbox_row<Traits>> {
    using q = typename Traits::quantity_type;
    using sku_t = typename Traits::sku_type;
    using order_t = typename Traits::order_id_type;
    using ref_t = typename Traits::batch_ref_type;
    outbox_row<Traits> m;
    m.id = row[0].as<std::int64_t>();
    m.sent = row[9].as<bool>();
    m.channel = row[1].c_str();
    const std::string_view ch = m.channel;
    auto sku = read_id<sku_t>(row[2]);
    if (ch == events::channel_v<events::basic_batch_created<Traits>>) {
        m.event = events::basic_batch_created<Traits>{read_id<ref_t>(row[4]), std::move(sku), read_qty<q>(row[5]),
                                                      read_date(row[7])};
    } else if (ch == events::channel_v<events::basic_allocated<Traits>>) {
        m.event = events::basic_allocated<Traits>{read_id<order_t>(row[3]), std::move(sku), read_qty<q>(row[5]),
                                                  read_id<ref_t>(row[4])};
    } else if (ch == events::channel_v<events::basic_deallocated<Traits>>) {
        const std::string_view reason = row[8].is_null() ? "" : row[8].c_str();
        m.event = events::basic_deallocated<Traits>{
            read_id<order_t>(row[3]), std::move(sku), read_qty<q>(row[5]), read_id<ref_t>(row[4]),
            reason == "batch_shrunk" ? deallocation_reason::batch_shrunk : deallocation_reason::requested};
    } else if (ch == events::channel_v<events::basic_out_of_stock<Traits>>) {
        m.event = events::basic_out_of_stock<Traits>{read_id<order_t>(row[3]), std::move(sku), read_qty<q>(row[5])};
    } else if (ch == events::channel_v<events::basic_low_stock<Traits>>) {
        m.event = events::basic_low_stock<Traits>{std::move(sku), read_qty<q>(row[5]), read_qty<q>(row[6])};
    } else if (ch == events::channel_v<events::basic_batch_quantity_changed<Traits>>) {
        m.event = events::basic_batch_quantity_changed<Traits>{read_id<ref_t>(row[4]), std::move(sku),
                                                               read_qty<q>(row[6]), read_qty<q>(row[5])};
    } else {
        return std::nullopt;
    }
    return m;
}

}  // namespace detail

template <class Product>
class store;

/// The outbox of a store: every event a commit wrote, with its stable id (increasing in commit
/// order). relay() publishes the unsent ones in id order and marks them sent; a crash between
/// publishing and marking publishes them again (at-least-once: consumers de-duplicate by id
/// when they must). Several relays, in one process or several, may run at once: each unsent
/// event is taken by one of them (FOR UPDATE SKIP LOCKED). Thread-safe.
template <class Product = allocation::product>
class outbox {
public:
    using traits_type = typename Product::traits_type;
    using event_type = typename Product::event_type;
    /// One stored event.
    using record = detail::outbox_row<traits_type>;

    explicit outbox(store<Product>& s) noexcept : pool_(s.pool()) {}

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
        ALLOCATION_TRY(rows, query("SELECT count(*) FROM outbox WHERE NOT sent"));
        return rows[0][0].template as<std::size_t>();
    }

    /// Hands up to `max` unsent events, oldest first, to `publisher` (`publish(channel, event)`,
    /// see event_publisher), and marks each one sent that it took or does not take (an event
    /// type the publisher does not model is skipped). Stops at the first failure, returning it
    /// after marking the ones before. Returns the number of events marked sent.
    template <class Publisher>
    auto relay(Publisher& publisher, std::size_t max = 1000) -> result<std::size_t> {
        return relay_each(
            [&](const record& r) -> result<void> {
                return std::visit(
                    [&](const auto& e) -> result<void> {
                        using E = std::remove_cvref_t<decltype(e)>;
                        if constexpr (event_publisher<Publisher, E>) {
                            return publisher.publish(events::channel_v<E>, e);
                        } else {
                            return success();
                        }
                    },
                    r.event);
            },
            max);
    }

    /// As relay(), with `handler(const record&) -> result<void>` (or bool), which also sees each
    /// event's id.
    template <class Handler>
    auto relay_each(Handler&& handler, std::size_t max = 1000) -> result<std::size_t> {
        ALLOCATION_TRY(conn, pool_->acquire());
        std::size_t done = 0;
        std::error_code failure;
        try {
            pqxx::work tx(*conn);
            const auto rows = tx.exec(fmt::format(
                "SELECT {} FROM outbox WHERE NOT sent ORDER BY id LIMIT {} FOR UPDATE SKIP LOCKED",
                detail::outbox_columns, max));
            std::string sent;
            for (const auto& row : rows) {
                if (auto r = detail::read_outbox_row<traits_type>(row)) {
                    const auto published = handler(std::as_const(*r));
                    if constexpr (std::is_same_v<std::remove_cvref_t<decltype(published)>, bool>) {
                        if (!published) failure = errc::storage_error;
                    } else {
                        if (!published) failure = published.error();
                    }
                    if (failure) break;
                }
                sent += sent.empty() ? "" : ",";
                sent += row[0].c_str();
                ++done;
            }
            if (!sent.empty()) tx.exec("UPDATE outbox SET sent = true WHERE id IN (" + sent + ")");
            tx.commit();
        } catch (...) {
            auto f = detail::classify(std::current_exception());
            pool_->report(f.text);
            pool_->discard(std::move(conn));
            return f.code;
        }
        pool_->release(std::move(conn));
        if (failure) return failure;
        return done;
    }

    /// Marks events sent. Errors: errc::storage_error.
    auto mark_sent(const std::vector<std::int64_t>& ids) -> result<void> {
        if (ids.empty()) return success();
        std::string list;
        for (const auto id : ids) list += fmt::format("{}{}", list.empty() ? "" : ",", id);
        ALLOCATION_TRYV(query("UPDATE outbox SET sent = true WHERE id IN (" + list + ")"));
        return success();
    }

private:
    auto query(const std::string& sql) -> result<pqxx::result> {
        ALLOCATION_TRY(conn, pool_->acquire());
        try {
            auto rows = detail::exec(*conn, sql);
            pool_->release(std::move(conn));
            return rows;
        } catch (...) {
            auto f = detail::classify(std::current_exception());
            pool_->report(f.text);
            pool_->discard(std::move(conn));
            return f.code;
        }
    }

    auto load(const std::string& sql) -> result<std::vector<record>> {
        ALLOCATION_TRY(rows, query(sql));
        std::vector<record> out;
        out.reserve(rows.size());
        for (const auto& row : rows) {
            if (auto r = detail::read_outbox_row<traits_type>(row)) out.push_back(std::move(*r));
        }
        return out;
    }

    std::shared_ptr<detail::connection_pool> pool_;
};

template <class Product>
outbox(store<Product>&) -> outbox<Product>;

}  // namespace allocation::postgres

#endif  // ALLOCATION_ADAPTERS_POSTGRES_OUTBOX_HPP
