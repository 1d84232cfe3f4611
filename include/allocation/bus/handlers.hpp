// allocation — command handlers: each command's one unit of work over the repository.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_BUS_HANDLERS_HPP
#define ALLOCATION_BUS_HANDLERS_HPP

#include <algorithm>  // sort, find_if
#include <cstddef>    // size_t
#include <numeric>    // iota
#include <optional>   // optional
#include <string>     // string
#include <type_traits>  // type_identity
#include <vector>     // vector

#include <allocation/domain/commands.hpp>
#include <allocation/domain/types.hpp>
#include <allocation/domain/validation.hpp>
#include <allocation/error.hpp>
#include <allocation/ports/inbox.hpp>
#include <allocation/ports/unit_of_work.hpp>
#include <allocation/try.hpp>

/// The handlers commit their unit of work on success and roll it back on failure; the message
/// bus calls them, but they can be called directly with any unit_of_work.
namespace allocation::handlers {

template <class Uow>
using traits_of = typename product_t<Uow>::traits_type;

namespace detail {
// Rolls back and passes the error on.
template <class Uow>
auto abandon(Uow& uow, std::error_code ec) -> std::error_code {
    uow.rollback();
    return ec;
}
// Looks the message id up in the inbox, when the unit of work has one and the command carries
// an id: `answer` then holds the result recorded when the message was processed.
template <class Uow, class R>
auto replay(Uow& uow, const std::string& message_id, std::optional<R>& answer) -> result<void> {
    if constexpr (records_processed_messages<Uow>) {
        if (!message_id.empty()) {
            ALLOCATION_TRY(seen, uow.find_processed(message_id));
            if (seen) answer.emplace(inbox::decode(*seen, std::type_identity<R>{}));
        }
    }
    return success();
}
// Records a command's result under its message id, to be committed with its changes.
template <class Uow, class R>
auto record(Uow& uow, const std::string& message_id, const R& r) -> result<void> {
    if constexpr (records_processed_messages<Uow>) {
        if (!message_id.empty()) return uow.record_processed(message_id, inbox::encode(r));
    }
    return success();
}
}  // namespace detail

/// Adds a batch, creating its product with `make(sku)` when the SKU is new. The same batch sent
/// again succeeds without change.
/// Errors: errc::invalid_identifier, invalid_quantity, duplicate_batch, storage errors.
template <unit_of_work Uow, class Make>
    requires std::is_invocable_r_v<product_t<Uow>, Make&, const typename product_t<Uow>::sku_type&>
auto create_batch(const commands::basic_create_batch<traits_of<Uow>>& cmd, Uow& uow, Make&& make) -> result<void> {
    using product_type = product_t<Uow>;
    ALLOCATION_TRYV(validate::identifier<traits_of<Uow>>(cmd.ref));
    ALLOCATION_TRYV(validate::identifier<traits_of<Uow>>(cmd.sku));
    ALLOCATION_TRYV(validate::batch_quantity<traits_of<Uow>>(cmd.qty));
    ALLOCATION_TRY(owner, uow.products().get_by_batch_ref(cmd.ref));
    if (owner != nullptr && !(owner->sku() == cmd.sku)) return detail::abandon(uow, errc::duplicate_batch);
    ALLOCATION_TRY(found, uow.products().get(cmd.sku));
    product_type* product = found;
    if (product == nullptr) {
        // Another writer may have created the product since get(): a conflict, which the bus
        // retries (and then finds the product).
        if (auto r = uow.products().add(make(cmd.sku)); !r) {
            return detail::abandon(uow, r.error() == errc::duplicate_product ? make_error_code(errc::conflict) : r.error());
        }
        ALLOCATION_TRY(added, uow.products().get(cmd.sku));
        product = added;
    }
    if (auto r = product->add_batch(cmd.ref, cmd.qty, cmd.eta, cmd.expires); !r) {
        return detail::abandon(uow, r.error());
    }
    return uow.commit();
}

/// Adds a batch, creating its product with `rule` (and a default strategy) when the SKU is new.
template <unit_of_work Uow>
auto create_batch(const commands::basic_create_batch<traits_of<Uow>>& cmd, Uow& uow,
                  const basic_replenishment<traits_of<Uow>>& rule = {}) -> result<void> {
    using product_type = product_t<Uow>;
    return create_batch(cmd, uow, [&](const typename product_type::sku_type& code) { return product_type{code, rule}; });
}

/// Allocates one order line and commits; returns the chosen batch. A line already allocated is
/// answered with its batch, with no new event. Out of stock commits the OutOfStock event.
/// Errors: errc::invalid_identifier, invalid_quantity, invalid_sku, out_of_stock,
/// conflicting_resubmission, storage errors.
template <unit_of_work Uow>
auto allocate(const commands::basic_allocate<traits_of<Uow>>& cmd, Uow& uow)
    -> result<typename product_t<Uow>::batch_ref_type> {
    ALLOCATION_TRYV(validate::identifier<traits_of<Uow>>(cmd.order));
    ALLOCATION_TRYV(validate::identifier<traits_of<Uow>>(cmd.sku));
    ALLOCATION_TRYV(validate::line_quantity<traits_of<Uow>>(cmd.qty));
    std::optional<result<typename product_t<Uow>::batch_ref_type>> answer;
    ALLOCATION_TRYV(detail::replay(uow, cmd.message_id, answer));
    if (answer) return std::move(*answer);
    ALLOCATION_TRY(product, uow.products().get(cmd.sku));
    if (product == nullptr) return errc::invalid_sku;
    auto ref = product->allocate({cmd.order, cmd.sku, cmd.qty, cmd.context});
    if (!ref && ref.error() != errc::out_of_stock) return detail::abandon(uow, ref.error());
    if (auto r = detail::record(uow, cmd.message_id, ref); !r) return detail::abandon(uow, r.error());
    ALLOCATION_TRYV(uow.commit());
    return ref;
}

/// Allocates one order line, split over several batches when no batch takes it whole, and
/// commits; returns the parts (SKU, quantity, batch) in the order taken. A line already
/// allocated is answered with its parts, with no new event. Out of stock commits the OutOfStock
/// event. Errors: as allocate().
template <unit_of_work Uow>
auto allocate_split(const commands::basic_allocate_split<traits_of<Uow>>& cmd, Uow& uow)
    -> result<std::vector<basic_line_allocation<traits_of<Uow>>>> {
    ALLOCATION_TRYV(validate::identifier<traits_of<Uow>>(cmd.order));
    ALLOCATION_TRYV(validate::identifier<traits_of<Uow>>(cmd.sku));
    ALLOCATION_TRYV(validate::line_quantity<traits_of<Uow>>(cmd.qty));
    ALLOCATION_TRY(product, uow.products().get(cmd.sku));
    if (product == nullptr) return errc::invalid_sku;
    auto parts = product->allocate_split({cmd.order, cmd.sku, cmd.qty, cmd.context});
    if (!parts && parts.error() != errc::out_of_stock) return detail::abandon(uow, parts.error());
    ALLOCATION_TRYV(uow.commit());
    return parts;
}

/// Removes an order line's allocation; returns the batch it was taken from.
/// Errors: errc::invalid_identifier, invalid_quantity, invalid_sku, not_allocated,
/// quantity_mismatch, storage errors.
template <unit_of_work Uow>
auto deallocate(const commands::basic_deallocate<traits_of<Uow>>& cmd, Uow& uow)
    -> result<typename product_t<Uow>::batch_ref_type> {
    ALLOCATION_TRYV(validate::identifier<traits_of<Uow>>(cmd.order));
    ALLOCATION_TRYV(validate::identifier<traits_of<Uow>>(cmd.sku));
    if (cmd.qty) {
        ALLOCATION_TRYV(validate::line_quantity<traits_of<Uow>>(*cmd.qty));
    }
    ALLOCATION_TRY(product, uow.products().get(cmd.sku));
    if (product == nullptr) return errc::invalid_sku;
    auto ref = product->deallocate(cmd.order, cmd.qty);
    if (!ref) return detail::abandon(uow, ref.error());
    ALLOCATION_TRYV(uow.commit());
    return ref;
}

/// Sets a batch's purchased quantity; lines that no longer fit are deallocated (and the bus
/// reallocates them). Errors: errc::invalid_identifier, invalid_quantity, unknown_batch,
/// storage errors.
template <unit_of_work Uow>
auto change_batch_quantity(const commands::basic_change_batch_quantity<traits_of<Uow>>& cmd, Uow& uow)
    -> result<void> {
    ALLOCATION_TRYV(validate::identifier<traits_of<Uow>>(cmd.ref));
    ALLOCATION_TRYV(validate::batch_quantity<traits_of<Uow>>(cmd.qty));
    ALLOCATION_TRY(product, uow.products().get_by_batch_ref(cmd.ref));
    if (product == nullptr) return errc::unknown_batch;
    if (auto r = product->change_batch_quantity(cmd.ref, cmd.qty); !r) return detail::abandon(uow, r.error());
    return uow.commit();
}

/// Sets a product's replenishment rule. Errors: errc::invalid_identifier, invalid_quantity,
/// invalid_sku, storage errors.
template <unit_of_work Uow>
auto set_replenishment(const commands::basic_set_replenishment<traits_of<Uow>>& cmd, Uow& uow) -> result<void> {
    ALLOCATION_TRYV(validate::identifier<traits_of<Uow>>(cmd.sku));
    ALLOCATION_TRY(product, uow.products().get(cmd.sku));
    if (product == nullptr) return errc::invalid_sku;
    if (auto r = product->set_replenishment(cmd.rule); !r) return detail::abandon(uow, r.error());
    return uow.commit();
}

/// Allocates every line of an order or none, lines of the same SKU summed into one. Products
/// are taken in SKU order, so that concurrent orders cannot wait for each other. Returns one
/// allocation per distinct SKU, in the order the SKUs first appear. When a line is out of stock
/// the OutOfStock event is committed and nothing else.
/// Errors: errc::empty_order, invalid_identifier, invalid_quantity, invalid_sku, out_of_stock,
/// conflicting_resubmission, conflict (stock changed while failing; retry), storage errors.
template <unit_of_work Uow>
auto allocate_order(const commands::basic_allocate_order<traits_of<Uow>>& cmd, Uow& uow)
    -> result<std::vector<basic_line_allocation<traits_of<Uow>>>> {
    using traits = traits_of<Uow>;
    using quantity_type = typename traits::quantity_type;
    using product_type = product_t<Uow>;
    if (cmd.lines.empty()) return errc::empty_order;
    ALLOCATION_TRYV(validate::identifier<traits_of<Uow>>(cmd.order));
    std::optional<result<std::vector<basic_line_allocation<traits>>>> answer;
    ALLOCATION_TRYV(detail::replay(uow, cmd.message_id, answer));
    if (answer) return std::move(*answer);
    std::vector<commands::basic_order_item<traits>> merged;
    for (const auto& line : cmd.lines) {
        ALLOCATION_TRYV(validate::identifier<traits_of<Uow>>(line.sku));
        ALLOCATION_TRYV(validate::line_quantity<traits_of<Uow>>(line.qty));
        const auto it = std::find_if(merged.begin(), merged.end(), [&](const auto& m) { return m.sku == line.sku; });
        if (it == merged.end()) {
            merged.push_back(line);
        } else {
            it->qty = it->qty + line.qty;
            ALLOCATION_TRYV(validate::line_quantity<traits_of<Uow>>(it->qty));
        }
    }
    std::vector<std::size_t> by_sku(merged.size());
    std::iota(by_sku.begin(), by_sku.end(), std::size_t{0});
    std::sort(by_sku.begin(), by_sku.end(), [&](std::size_t a, std::size_t b) { return merged[a].sku < merged[b].sku; });

    std::vector<basic_line_allocation<traits>> out(merged.size());
    for (const auto i : by_sku) {
        const auto& line = merged[i];
        ALLOCATION_TRY(found, uow.products().get(line.sku));
        product_type* product = found;
        if (product == nullptr) return detail::abandon(uow, errc::invalid_sku);
        auto ref = product->allocate({cmd.order, line.sku, line.qty, cmd.context});
        if (!ref) {
            if (ref.error() != errc::out_of_stock) return detail::abandon(uow, ref.error());
            // Undo the lines already allocated, then record the OutOfStock event alone.
            uow.rollback();
            ALLOCATION_TRY(again, uow.products().get(line.sku));
            product = again;
            if (product == nullptr) return detail::abandon(uow, errc::invalid_sku);
            if (product->allocate({cmd.order, line.sku, line.qty, cmd.context})) return detail::abandon(uow, errc::conflict);
            const result<std::vector<basic_line_allocation<traits>>> failed{errc::out_of_stock};
            if (auto r = detail::record(uow, cmd.message_id, failed); !r) return detail::abandon(uow, r.error());
            ALLOCATION_TRYV(uow.commit());
            return errc::out_of_stock;
        }
        out[i] = {line.sku, quantity_type{line.qty}, std::move(ref).value()};
    }
    const result<std::vector<basic_line_allocation<traits>>> done{out};
    if (auto r = detail::record(uow, cmd.message_id, done); !r) return detail::abandon(uow, r.error());
    ALLOCATION_TRYV(uow.commit());
    return out;
}

}  // namespace allocation::handlers

#endif  // ALLOCATION_BUS_HANDLERS_HPP
