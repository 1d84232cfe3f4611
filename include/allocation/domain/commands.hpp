// allocation — commands: what a caller asks the library to do, each with exactly one handler.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_DOMAIN_COMMANDS_HPP
#define ALLOCATION_DOMAIN_COMMANDS_HPP

#include <chrono>    // seconds
#include <cstdint>   // int64_t
#include <optional>  // optional
#include <string>    // string
#include <vector>    // vector

#include <allocation/domain/backorder.hpp>
#include <allocation/domain/traits.hpp>
#include <allocation/domain/types.hpp>

namespace allocation {

/// When a product asks purchasing for more stock (an ERP min/max reordering rule).
/// With a reorder point set, a LowStock event is raised each time the product's available
/// quantity falls to or below it; the quantity to order brings the available quantity up to
/// `max_level` (the reorder point when unset), at least one unit or one multiple, rounded up
/// to `multiple`.
template <class Traits>
struct basic_replenishment {
    std::optional<typename Traits::quantity_type> reorder_point{};
    std::optional<typename Traits::quantity_type> max_level{};
    std::optional<typename Traits::quantity_type> multiple{};
    friend auto operator==(const basic_replenishment&, const basic_replenishment&) -> bool = default;
};
using replenishment = basic_replenishment<default_traits>;

namespace commands {

/// Adds a batch to the product of its SKU, creating the product when it is new. Sending the
/// same batch again succeeds without change; another batch with the same reference is an error.
template <class Traits>
struct basic_create_batch {
    typename Traits::batch_ref_type ref{};
    typename Traits::sku_type sku{};
    typename Traits::quantity_type qty{};
    std::optional<typename Traits::date_type> eta{};      ///< none: already in the warehouse
    std::optional<typename Traits::date_type> expires{};  ///< none: does not expire
    /// Optional: as basic_allocate::message_id and fingerprint.
    std::string message_id{};
    std::string fingerprint{};
};

/// Allocates one order line (order id + SKU) to a batch.
template <class Traits>
struct basic_allocate {
    typename Traits::order_id_type order{};
    typename Traits::sku_type sku{};
    typename Traits::quantity_type qty{};
    /// Optional: a unit of work with an inbox (records_processed_messages) answers a message id
    /// it processed before with the stored result, without doing the work again.
    std::string message_id{};
    /// Optional, with message_id: what identifies the message (a hash of a request, text without
    /// control characters). The same id with another fingerprint is errc::message_id_reused.
    std::string fingerprint{};
    /// The caller's context of the line (line_context_t), seen by the strategy placing it.
    [[no_unique_address]] line_context_t<Traits> context{};
};

/// Allocates one order line, split over several batches when no batch can take it whole (all
/// or nothing); answered with the parts. Allocate never splits: this command is the opt-in.
template <class Traits>
struct basic_allocate_split {
    typename Traits::order_id_type order{};
    typename Traits::sku_type sku{};
    typename Traits::quantity_type qty{};
    /// Optional: as basic_allocate::message_id and fingerprint.
    std::string message_id{};
    std::string fingerprint{};
    /// As basic_allocate::context.
    [[no_unique_address]] line_context_t<Traits> context{};
};

/// Removes an order line's allocation. `qty`, when given, must equal the allocated quantity.
template <class Traits>
struct basic_deallocate {
    typename Traits::order_id_type order{};
    typename Traits::sku_type sku{};
    std::optional<typename Traits::quantity_type> qty{};
    /// Optional: as basic_allocate::message_id and fingerprint.
    std::string message_id{};
    std::string fingerprint{};
};

/// Sets a batch's purchased quantity; lines that no longer fit are deallocated, the most
/// recently allocated first, and reallocated elsewhere.
template <class Traits>
struct basic_change_batch_quantity {
    typename Traits::batch_ref_type ref{};
    typename Traits::quantity_type qty{};
    /// Optional: as basic_allocate::message_id and fingerprint.
    std::string message_id{};
    std::string fingerprint{};
};

/// One line of an order: a SKU and a quantity.
template <class Traits>
struct basic_order_item {
    typename Traits::sku_type sku{};
    typename Traits::quantity_type qty{};
};

/// Allocates the lines of an order as `policy` says: every line whole or none (the default),
/// what is available of each line, or that and the rest backordered at `priority`. Lines
/// naming the same SKU are allocated as one line of their summed quantity.
template <class Traits>
struct basic_allocate_order {
    typename Traits::order_id_type order{};
    std::vector<basic_order_item<Traits>> lines{};
    /// Optional: as basic_allocate::message_id and fingerprint.
    std::string message_id{};
    std::string fingerprint{};
    /// The caller's context, given to every line of the order (as basic_allocate::context).
    [[no_unique_address]] line_context_t<Traits> context{};
    order_policy policy = order_policy::all_or_nothing;
    /// Backorders of a higher priority are filled first (order_policy::backorder).
    std::int64_t priority = 0;
};

/// Holds the lines of an order for `ttl`, each line whole in one batch, all lines or none.
/// Lines naming the same SKU are held as one line of their summed quantity. The same lines
/// again while the hold lives are answered with the live hold.
template <class Traits>
struct basic_hold {
    typename Traits::order_id_type order{};
    std::vector<basic_order_item<Traits>> lines{};
    std::chrono::seconds ttl{900};
    /// Optional: as basic_allocate::message_id and fingerprint.
    std::string message_id{};
    std::string fingerprint{};
};

/// One line of a confirmation: a SKU of the hold and how much of it becomes an allocation
/// (none: all of it; zero: none of it, it is released).
template <class Traits>
struct basic_confirm_item {
    typename Traits::sku_type sku{};
    std::optional<typename Traits::quantity_type> qty{};
};

/// Confirms an order's live hold: each line's confirmed quantity becomes an allocation in the
/// batch that held it, the rest is released. `lines` names every SKU of the hold.
template <class Traits>
struct basic_confirm_hold {
    typename Traits::order_id_type order{};
    std::vector<basic_confirm_item<Traits>> lines{};
    /// Optional: as basic_allocate::message_id and fingerprint.
    std::string message_id{};
    std::string fingerprint{};
};

/// Releases an order's live hold; `skus` names every SKU of the hold.
template <class Traits>
struct basic_release_hold {
    typename Traits::order_id_type order{};
    std::vector<typename Traits::sku_type> skus{};
    /// Optional: as basic_allocate::message_id and fingerprint.
    std::string message_id{};
    std::string fingerprint{};
};

/// Sweeps the holds past their deadline out of the products of `skus` (empty: every product of
/// a store that lists the products with holds due), raising HoldExpired for each. Expired holds
/// never block anything before the sweep; it only tells and tidies.
template <class Traits>
struct basic_expire_holds {
    std::vector<typename Traits::sku_type> skus{};
};

/// Cancels an order line's backorder (what is already allocated stays).
template <class Traits>
struct basic_cancel_backorder {
    typename Traits::order_id_type order{};
    typename Traits::sku_type sku{};
    /// Optional: as basic_allocate::message_id and fingerprint.
    std::string message_id{};
    std::string fingerprint{};
};

/// Sets a product's replenishment rule.
template <class Traits>
struct basic_set_replenishment {
    typename Traits::sku_type sku{};
    basic_replenishment<Traits> rule{};
    /// Optional: as basic_allocate::message_id and fingerprint.
    std::string message_id{};
    std::string fingerprint{};
};

using create_batch = basic_create_batch<default_traits>;
using allocate = basic_allocate<default_traits>;
using allocate_split = basic_allocate_split<default_traits>;
using deallocate = basic_deallocate<default_traits>;
using change_batch_quantity = basic_change_batch_quantity<default_traits>;
using order_item = basic_order_item<default_traits>;
using allocate_order = basic_allocate_order<default_traits>;
using set_replenishment = basic_set_replenishment<default_traits>;
using hold = basic_hold<default_traits>;
using confirm_item = basic_confirm_item<default_traits>;
using confirm_hold = basic_confirm_hold<default_traits>;
using release_hold = basic_release_hold<default_traits>;
using expire_holds = basic_expire_holds<default_traits>;
using cancel_backorder = basic_cancel_backorder<default_traits>;

}  // namespace commands

/// One allocated part of an order line, as answered to AllocateOrder.
template <class Traits>
struct basic_line_allocation {
    typename Traits::sku_type sku{};
    typename Traits::quantity_type qty{};
    typename Traits::batch_ref_type batch{};
    friend auto operator==(const basic_line_allocation&, const basic_line_allocation&) -> bool = default;
};
using line_allocation = basic_line_allocation<default_traits>;

/// An order's hold, as answered to Hold: its deadline and where each line is held (SKU,
/// quantity, batch). `replayed`: the hold was live already (the same lines held again).
template <class Traits>
struct basic_held_order {
    typename Traits::order_id_type order{};
    timestamp expires_at{};
    std::vector<basic_line_allocation<Traits>> lines{};
    bool replayed = false;
    friend auto operator==(const basic_held_order&, const basic_held_order&) -> bool = default;
};
using held_order = basic_held_order<default_traits>;

}  // namespace allocation

#endif  // ALLOCATION_DOMAIN_COMMANDS_HPP
