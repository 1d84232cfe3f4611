// allocation — the outbox-row codec: an event as the typed columns of an outbox row, and back
// (the SQLite and PostgreSQL outboxes).
// SPDX-License-Identifier: MIT
//
// Every backend's outbox table has the same columns: `channel` (the event's channel), then
// `orderid`, `sku`, `batchref`, `qty`, `qty2`, `eta` and `reason`, each filled where the event
// has it (NULL elsewhere). A backend writes an outbox_row's fields to its columns and reads them
// back into one; which event field goes to which column is decided here only. A new event type
// (a hold placed, for example) needs one branch in to_outbox_row() and one in from_outbox_row(),
// and no change in any backend.
#ifndef ALLOCATION_ADAPTERS_COMMON_OUTBOX_ROW_HPP
#define ALLOCATION_ADAPTERS_COMMON_OUTBOX_ROW_HPP

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

/// The outbox row of an event.
template <class Traits>
[[nodiscard]] auto to_outbox_row(const events::basic_event<Traits>& event) -> basic_outbox_row<Traits> {
    return std::visit(
        [](const auto& e) {
            using E = std::remove_cvref_t<decltype(e)>;
            basic_outbox_row<Traits> row;
            row.channel = std::string(events::channel_v<E>);
            row.sku = e.sku;
            if constexpr (std::is_same_v<E, events::basic_batch_created<Traits>>) {
                row.batch = e.ref;
                row.qty = e.qty;
                row.eta = e.eta;
            } else if constexpr (std::is_same_v<E, events::basic_allocated<Traits>>) {
                row.order = e.order;
                row.batch = e.batch;
                row.qty = e.qty;
            } else if constexpr (std::is_same_v<E, events::basic_deallocated<Traits>>) {
                row.order = e.order;
                row.batch = e.batch;
                row.qty = e.qty;
                row.reason = reason_text(e.reason);
            } else if constexpr (std::is_same_v<E, events::basic_out_of_stock<Traits>>) {
                row.order = e.order;
                row.qty = e.qty;
            } else if constexpr (std::is_same_v<E, events::basic_low_stock<Traits>>) {
                row.qty = e.available;
                row.qty2 = e.reorder_qty;
            } else {
                static_assert(std::is_same_v<E, events::basic_batch_quantity_changed<Traits>>,
                              "an event type without an outbox row");
                row.batch = e.ref;
                row.qty = e.new_qty;
                row.qty2 = e.old_qty;
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
