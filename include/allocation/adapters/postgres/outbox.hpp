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
#include <allocation/error.hpp>
#include <allocation/ports/publisher.hpp>
#include <allocation/try.hpp>

namespace allocation::postgres {

/// An event read back from the outbox: its stable id (increasing in commit order within a
/// product), its channel (events::channel_v) and the event.
template <class Traits = default_traits>
struct basic_outbox_message {
    std::int64_t id = 0;
    std::string channel;
    events::basic_event<Traits> event;
};
using outbox_message = basic_outbox_message<>;

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
    "id, channel, sku, orderid, batchref, qty, qty2, to_char(eta, 'YYYY-MM-DD'), reason";

/// The event of an outbox row selected with outbox_columns; none for an unknown channel.
template <class Traits>
[[nodiscard]] auto read_outbox_row(const pqxx::row& row) -> std::optional<basic_outbox_message<Traits>> {
    using q = typename Traits::quantity_type;
    using sku_t = typename Traits::sku_type;
    using order_t = typename Traits::order_id_type;
    using ref_t = typename Traits::batch_ref_type;
    basic_outbox_message<Traits> m;
    m.id = row[0].as<std::int64_t>();
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

/// Hands the events committed to the outbox to a publisher, oldest first, and marks each one
/// sent. Delivery is at least once: an event published just before a crash (or a failed
/// commit of the marks) is published again, with the same id. Several relays, in one process
/// or several, may run at once: each row is taken by one of them (FOR UPDATE SKIP LOCKED).
/// Thread-safe.
template <class Traits = default_traits>
class basic_outbox_relay {
public:
    using message_type = basic_outbox_message<Traits>;

    /// A relay over the connections of a store (see store::outbox()).
    explicit basic_outbox_relay(std::shared_ptr<detail::connection_pool> pool) noexcept : pool_(std::move(pool)) {}

    /// Publishes up to `limit` unsent events with `handler(const message_type&)`, which returns
    /// result<void> (or bool); stops at the first failure. Returns how many were published and
    /// marked sent. Errors: errc::storage_error.
    template <class Handler>
    auto relay(Handler&& handler, std::size_t limit = 1'000) -> result<std::size_t> {
        ALLOCATION_TRY(conn, pool_->acquire());
        std::size_t done = 0;
        try {
            pqxx::work tx(*conn);
            const auto rows = tx.exec(fmt::format(
                "SELECT {} FROM outbox WHERE NOT sent ORDER BY id LIMIT {} FOR UPDATE SKIP LOCKED",
                detail::outbox_columns, limit));
            std::string sent;
            for (const auto& row : rows) {
                auto m = detail::read_outbox_row<Traits>(row);
                if (m) {
                    bool ok = false;
                    if constexpr (std::is_same_v<std::invoke_result_t<Handler&, const message_type&>, bool>) {
                        ok = handler(std::as_const(*m));
                    } else {
                        ok = static_cast<bool>(handler(std::as_const(*m)));
                    }
                    if (!ok) break;
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
        return done;
    }

    /// Publishes up to `limit` unsent events to an event publisher (see event_publisher):
    /// `publisher.publish(channel, event)` for each event type it takes; events of the types it
    /// does not take are marked sent without it.
    template <class Publisher>
    auto relay_to(Publisher& publisher, std::size_t limit = 1'000) -> result<std::size_t> {
        return relay(
            [&](const message_type& m) -> result<void> {
                return std::visit(
                    [&](const auto& e) -> result<void> {
                        using E = std::remove_cvref_t<decltype(e)>;
                        if constexpr (event_publisher<Publisher, E>) {
                            return publisher.publish(m.channel, e);
                        } else {
                            return success();
                        }
                    },
                    m.event);
            },
            limit);
    }

    /// The number of events not yet marked sent. Errors: errc::storage_error.
    auto pending() -> result<std::size_t> {
        ALLOCATION_TRY(conn, pool_->acquire());
        try {
            const auto r = detail::exec(*conn, "SELECT count(*) FROM outbox WHERE NOT sent");
            const auto n = r[0][0].template as<std::size_t>();
            pool_->release(std::move(conn));
            return n;
        } catch (...) {
            auto f = detail::classify(std::current_exception());
            pool_->report(f.text);
            pool_->discard(std::move(conn));
            return f.code;
        }
    }

private:
    std::shared_ptr<detail::connection_pool> pool_;
};
using outbox_relay = basic_outbox_relay<>;

}  // namespace allocation::postgres

#endif  // ALLOCATION_ADAPTERS_POSTGRES_OUTBOX_HPP
