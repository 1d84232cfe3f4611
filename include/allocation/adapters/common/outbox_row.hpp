// allocation — the outbox-row codec: an event as the typed columns of an outbox row, and back
// (the SQLite and PostgreSQL outboxes).
// SPDX-License-Identifier: MIT
//
// Every backend's outbox table has the same columns: `channel` (the event's channel), then
// `orderid`, `sku`, `batchref`, `qty`, `qty2`, `eta` and `reason`, each filled where the event
// has it (NULL elsewhere). `reason` is the event's one text detail: why a line was deallocated
// or a hold released, a hold's deadline (milliseconds since 1970 in decimal), a backorder's
// priority (decimal). A backend writes an outbox_row's fields to its columns and reads them
// back into one; which event field goes to which column is decided here only. A new event type
// (a hold placed, for example) needs one branch in to_outbox_row() and one in from_outbox_row(),
// and no change in any backend.
#ifndef ALLOCATION_ADAPTERS_COMMON_OUTBOX_ROW_HPP
#define ALLOCATION_ADAPTERS_COMMON_OUTBOX_ROW_HPP

#include <charconv>     // from_chars
#include <chrono>       // milliseconds
#include <cstdint>      // int64_t
#include <optional>     // optional
#include <string>       // string
#include <string_view>  // string_view
#include <type_traits>  // is_same_v, remove_cvref_t
#include <utility>      // move
#include <variant>      // visit

#include <allocation/domain/events.hpp>
#include <allocation/ports/publisher.hpp>

namespace allocation::detail {

/// The columns of an outbox row (see the comment at the top of the file).
template <class Traits>
struct basic_outbox_row {
    std::string channel;
    std::optional<typename Traits::order_id_type> order;
    std::optional<typename Traits::sku_type> sku;
    std::optional<typename Traits::batch_ref_type> batch;
    std::optional<typename Traits::quantity_type> qty;
    std::optional<typename Traits::quantity_type> qty2;
    std::optional<typename Traits::date_type> eta;
    std::optional<std::string> reason;
};

/// The stored text of a deallocation reason, and back (anything else reads as `requested`).
[[nodiscard]] inline auto reason_text(deallocation_reason r) -> std::string {
    return r == deallocation_reason::batch_shrunk ? "batch_shrunk" : "requested";
}
[[nodiscard]] inline auto parse_reason(const std::optional<std::string>& text) noexcept -> deallocation_reason {
    return text && *text == "batch_shrunk" ? deallocation_reason::batch_shrunk : deallocation_reason::requested;
}

/// The stored text of a hold release reason, and back (anything else reads as `requested`).
[[nodiscard]] inline auto release_reason_text(hold_release_reason r) -> std::string {
    switch (r) {
        case hold_release_reason::partly_confirmed: return "partly_confirmed";
        case hold_release_reason::batch_shrunk: return "batch_shrunk";
        case hold_release_reason::requested: break;
    }
    return "requested";
}
[[nodiscard]] inline auto parse_release_reason(const std::optional<std::string>& text) noexcept
    -> hold_release_reason {
    if (text && *text == "partly_confirmed") return hold_release_reason::partly_confirmed;
    if (text && *text == "batch_shrunk") return hold_release_reason::batch_shrunk;
    return hold_release_reason::requested;
}

/// A decimal integer of a `reason` column; zero when absent or malformed.
[[nodiscard]] inline auto reason_number(const std::optional<std::string>& text) noexcept -> std::int64_t {
    std::int64_t n = 0;
    if (text) std::from_chars(text->data(), text->data() + text->size(), n);
    return n;
}

/// The outbox row of an event.
template <class Traits>
[[nodiscard]] auto to_outbox_row(const events::basic_event<Traits>& event) -> basic_outbox_row<Traits> {
    return std::visit(
        [](const auto& e) {
            using E = std::remove_cvref_t<decltype(e)>;
            basic_outbox_row<Traits> row;
            row.channel = std::string(events::channel_v<E>);
            row.sku = e.sku;
            // The order, batch and quantity of the events that have them, by name.
            if constexpr (requires { e.order; }) row.order = e.order;
            if constexpr (requires { e.batch; }) row.batch = e.batch;
            if constexpr (requires { e.qty; }) row.qty = e.qty;
            if constexpr (std::is_same_v<E, events::basic_batch_created<Traits>>) {
                row.batch = e.ref;
                row.eta = e.eta;
            } else if constexpr (std::is_same_v<E, events::basic_deallocated<Traits>>) {
                row.reason = reason_text(e.reason);
            } else if constexpr (std::is_same_v<E, events::basic_low_stock<Traits>>) {
                row.qty = e.available;
                row.qty2 = e.reorder_qty;
            } else if constexpr (std::is_same_v<E, events::basic_hold_placed<Traits>>) {
                row.reason = std::to_string(e.expires_at.time_since_epoch().count());
            } else if constexpr (std::is_same_v<E, events::basic_hold_released<Traits>>) {
                row.reason = release_reason_text(e.reason);
            } else if constexpr (std::is_same_v<E, events::basic_backordered<Traits>>) {
                row.reason = std::to_string(e.priority);
            } else if constexpr (std::is_same_v<E, events::basic_batch_quantity_changed<Traits>>) {
                row.batch = e.ref;
                row.qty = e.new_qty;
                row.qty2 = e.old_qty;
            } else {
                static_assert(std::is_same_v<E, events::basic_allocated<Traits>> ||
                                  std::is_same_v<E, events::basic_out_of_stock<Traits>> ||
                                  std::is_same_v<E, events::basic_hold_expired<Traits>> ||
                                  std::is_same_v<E, events::basic_backorder_cancelled<Traits>>,
                              "an event type without an outbox row");
            }
            return row;
        },
        event);
}

/// The event of an outbox row; none for a channel this version does not know.
template <class Traits>
[[nodiscard]] auto from_outbox_row(basic_outbox_row<Traits> row) -> std::optional<events::basic_event<Traits>> {
    using event_type = events::basic_event<Traits>;
    const std::string_view ch = row.channel;
    auto sku = std::move(row.sku).value_or(typename Traits::sku_type{});
    auto order = [&] { return std::move(row.order).value_or(typename Traits::order_id_type{}); };
    auto batch = [&] { return std::move(row.batch).value_or(typename Traits::batch_ref_type{}); };
    const auto qty = row.qty.value_or(typename Traits::quantity_type{});
    const auto qty2 = row.qty2.value_or(typename Traits::quantity_type{});
    if (ch == events::channel_v<events::basic_batch_created<Traits>>) {
        return event_type{events::basic_batch_created<Traits>{batch(), std::move(sku), qty, row.eta}};
    }
    if (ch == events::channel_v<events::basic_allocated<Traits>>) {
        return event_type{events::basic_allocated<Traits>{order(), std::move(sku), qty, batch()}};
    }
    if (ch == events::channel_v<events::basic_deallocated<Traits>>) {
        return event_type{
            events::basic_deallocated<Traits>{order(), std::move(sku), qty, batch(), parse_reason(row.reason)}};
    }
    if (ch == events::channel_v<events::basic_out_of_stock<Traits>>) {
        return event_type{events::basic_out_of_stock<Traits>{order(), std::move(sku), qty}};
    }
    if (ch == events::channel_v<events::basic_low_stock<Traits>>) {
        return event_type{events::basic_low_stock<Traits>{std::move(sku), qty, qty2}};
    }
    if (ch == events::channel_v<events::basic_batch_quantity_changed<Traits>>) {
        return event_type{events::basic_batch_quantity_changed<Traits>{batch(), std::move(sku), qty2, qty}};
    }
    if (ch == events::channel_v<events::basic_hold_placed<Traits>>) {
        return event_type{events::basic_hold_placed<Traits>{
            order(), std::move(sku), qty, batch(), timestamp{std::chrono::milliseconds{reason_number(row.reason)}}}};
    }
    if (ch == events::channel_v<events::basic_hold_released<Traits>>) {
        return event_type{events::basic_hold_released<Traits>{order(), std::move(sku), qty, batch(),
                                                              parse_release_reason(row.reason)}};
    }
    if (ch == events::channel_v<events::basic_hold_expired<Traits>>) {
        return event_type{events::basic_hold_expired<Traits>{order(), std::move(sku), qty, batch()}};
    }
    if (ch == events::channel_v<events::basic_backordered<Traits>>) {
        return event_type{events::basic_backordered<Traits>{order(), std::move(sku), qty, reason_number(row.reason)}};
    }
    if (ch == events::channel_v<events::basic_backorder_cancelled<Traits>>) {
        return event_type{events::basic_backorder_cancelled<Traits>{order(), std::move(sku), qty}};
    }
    return std::nullopt;
}

/// One event of an outbox, with its stable id (its commit order) and whether it was sent.
template <class Traits>
struct basic_outbox_record {
    std::int64_t id = 0;
    std::string channel;
    events::basic_event<Traits> event;
    bool sent = false;
};

}  // namespace allocation::detail

#endif  // ALLOCATION_ADAPTERS_COMMON_OUTBOX_ROW_HPP
