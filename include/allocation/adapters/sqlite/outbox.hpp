// allocation — the SQLite outbox: events committed with the state change, handed to an
// EventPublisher afterwards by a relay that marks them sent (at-least-once).
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_SQLITE_OUTBOX_HPP
#define ALLOCATION_ADAPTERS_SQLITE_OUTBOX_HPP

#include <sqlite3.h>

#include <cstddef>      // size_t
#include <cstdint>      // int64_t
#include <optional>     // optional
#include <string>       // string
#include <string_view>  // string_view
#include <variant>      // visit
#include <vector>       // vector

#include <allocation/adapters/sqlite/detail.hpp>
#include <allocation/adapters/sqlite/store.hpp>
#include <allocation/domain/events.hpp>
#include <allocation/error.hpp>
#include <allocation/ports/publisher.hpp>

namespace allocation::sqlite {

/// The outbox of a store: every event a commit wrote, with its stable id (its commit order).
/// relay() publishes the unsent ones in id order and marks them sent; a crash between publishing
/// and marking publishes them again (at-least-once: consumers de-duplicate by id when they
/// must). Run one relay per database at a time; several would publish some events twice.
/// Thread-safe.
template <class Product = allocation::product>
class outbox {
public:
    using traits_type = typename Product::traits_type;
    using event_type = typename Product::event_type;

    /// One stored event.
    struct record {
        std::int64_t id = 0;
        std::string channel;
        event_type event;
        bool sent = false;
    };

    explicit outbox(store<Product>& s) noexcept : store_(&s) {}

    /// Up to `max` events with an id greater than `after`, in id order, sent or not.
    auto read(std::int64_t after = 0, std::size_t max = 1000) -> result<std::vector<record>> {
        return load("SELECT id, channel, orderid, sku, batchref, qty, qty2, eta, reason, sent FROM outbox "
                    "WHERE id > ? ORDER BY id LIMIT ?",
                    after, max);
    }

    /// Up to `max` unsent events, in id order.
    auto unsent(std::size_t max = 1000) -> result<std::vector<record>> {
        return load("SELECT id, channel, orderid, sku, batchref, qty, qty2, eta, reason, sent FROM outbox "
                    "WHERE sent = 0 AND id > ? ORDER BY id LIMIT ?",
                    0, max);
    }

    /// The number of unsent events.
    auto pending() -> result<std::size_t> {
        return store_->with_reader([](sqlite3* db) -> result<std::size_t> {
            detail::statement st(db, "SELECT count(*) FROM outbox WHERE sent = 0");
            if (!st.ok() || st.step() != SQLITE_ROW) return errc::storage_error;
            return static_cast<std::size_t>(st.int64(0));
        });
    }

    /// Hands up to `max` unsent events, oldest first, to `publisher` (`publish(channel, event)`,
    /// see event_publisher), and marks each one sent that it took or does not take (an event
    /// type the publisher does not model is skipped). Stops at the first failure, returning it
    /// after marking the ones before. Returns the number of events marked sent.
    template <class Publisher>
    auto relay(Publisher& publisher, std::size_t max = 1000) -> result<std::size_t> {
        ALLOCATION_TRY(rows, unsent(max));
        std::vector<std::int64_t> done;
        done.reserve(rows.size());
        std::error_code failure;
        for (const auto& r : rows) {
            const auto published = std::visit(
                [&](const auto& ev) -> result<void> {
                    using E = std::remove_cvref_t<decltype(ev)>;
                    if constexpr (event_publisher<Publisher, E>) {
                        return publisher.publish(events::channel_v<E>, ev);
                    } else {
                        return success();
                    }
                },
                r.event);
            if (!published) {
                failure = published.error();
                break;
            }
            done.push_back(r.id);
        }
        ALLOCATION_TRYV(mark_sent(done));
        if (failure) return failure;
        return done.size();
    }

    /// Marks events sent.
    auto mark_sent(const std::vector<std::int64_t>& ids) -> result<void> {
        if (ids.empty()) return success();
        return store_->with_writer([&](sqlite3* db) -> result<void> {
            if (detail::exec_script(db, "BEGIN IMMEDIATE") != SQLITE_OK) return errc::storage_error;
            detail::statement st(db, "UPDATE outbox SET sent = 1 WHERE id = ?");
            bool ok = st.ok();
            for (const auto id : ids) {
                if (!ok) break;
                st.bind(1, id);
                ok = st.exec() == SQLITE_DONE;
            }
            if (!ok || detail::exec_script(db, "COMMIT") != SQLITE_OK) {
                detail::exec_script(db, "ROLLBACK");
                return errc::storage_error;
            }
            return success();
        });
    }

private:
    auto load(const char* sql, std::int64_t after, std::size_t max) -> result<std::vector<record>> {
        return store_->with_reader([&](sqlite3* db) -> result<std::vector<record>> {
            detail::statement st(db, sql);
            if (!st.ok()) return errc::storage_error;
            st.bind(1, after);
            st.bind(2, static_cast<std::int64_t>(max));
            std::vector<record> out;
            int rc = 0;
            while ((rc = st.step()) == SQLITE_ROW) {
                if (auto e = decode(st)) {
                    out.push_back({st.int64(0), st.text(1), std::move(*e), st.int64(9) != 0});
                }
            }
            if (rc != SQLITE_DONE) return errc::storage_error;
            return out;
        });
    }

    // The event of an outbox row (columns as in read()); none for an unknown channel.
    static auto decode(const detail::statement& st) -> std::optional<event_type> {
        using T = traits_type;
        using order_id_type = typename T::order_id_type;
        using sku_type = typename T::sku_type;
        using batch_ref_type = typename T::batch_ref_type;
        using quantity_type = typename T::quantity_type;
        const auto channel = st.text(1);
        const auto order = [&] { return detail::make_id<order_id_type>(st.text(2)); };
        const auto sku = [&] { return detail::make_id<sku_type>(st.text(3)); };
        const auto batch = [&] { return detail::make_id<batch_ref_type>(st.text(4)); };
        const auto qty = [&](int i) { return allocation::detail::make_quantity<quantity_type>(st.int64(i)); };
        if (channel == events::channel_v<events::basic_allocated<T>>) {
            return event_type{events::basic_allocated<T>{order(), sku(), qty(5), batch()}};
        }
        if (channel == events::channel_v<events::basic_deallocated<T>>) {
            const auto reason = st.text(8) == "batch_shrunk" ? deallocation_reason::batch_shrunk
                                                              : deallocation_reason::requested;
            return event_type{events::basic_deallocated<T>{order(), sku(), qty(5), batch(), reason}};
        }
        if (channel == events::channel_v<events::basic_out_of_stock<T>>) {
            return event_type{events::basic_out_of_stock<T>{order(), sku(), qty(5)}};
        }
        if (channel == events::channel_v<events::basic_low_stock<T>>) {
            return event_type{events::basic_low_stock<T>{sku(), qty(5), qty(6)}};
        }
        if (channel == events::channel_v<events::basic_batch_created<T>>) {
            std::optional<typename T::date_type> eta;
            if (auto text = st.optional_text(7)) eta = detail::parse_date(*text);
            return event_type{events::basic_batch_created<T>{batch(), sku(), qty(5), eta}};
        }
        if (channel == events::channel_v<events::basic_batch_quantity_changed<T>>) {
            return event_type{events::basic_batch_quantity_changed<T>{batch(), sku(), qty(6), qty(5)}};
        }
        return std::nullopt;
    }

    store<Product>* store_;
};

template <class Product>
outbox(store<Product>&) -> outbox<Product>;

}  // namespace allocation::sqlite

#endif  // ALLOCATION_ADAPTERS_SQLITE_OUTBOX_HPP
