// allocation — commands: what a caller asks the library to do, each with exactly one handler.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_DOMAIN_COMMANDS_HPP
#define ALLOCATION_DOMAIN_COMMANDS_HPP

#include <optional>  // optional
#include <string>    // string
#include <vector>    // vector

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

/// Allocates every line of an order, or none. Lines naming the same SKU are allocated as one
/// line of their summed quantity.
template <class Traits>
struct basic_allocate_order {
    typename Traits::order_id_type order{};
    std::vector<basic_order_item<Traits>> lines{};
    /// Optional: as basic_allocate::message_id and fingerprint.
    std::string message_id{};
    std::string fingerprint{};
    /// The caller's context, given to every line of the order (as basic_allocate::context).
    [[no_unique_address]] line_context_t<Traits> context{};
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

}  // namespace allocation

#endif  // ALLOCATION_DOMAIN_COMMANDS_HPP
