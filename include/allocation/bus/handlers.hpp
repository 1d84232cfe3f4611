// allocation — command handlers: each command's one unit of work over the repository.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_BUS_HANDLERS_HPP
#define ALLOCATION_BUS_HANDLERS_HPP

#include <algorithm>  // sort, find_if
#include <cstddef>    // size_t
#include <numeric>    // iota
#include <optional>   // optional
#include <string>     // string
#include <string_view>  // string_view
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
// Whether the command goes through the inbox: the unit of work has one and the command carries
// a message id.
template <class Uow, class Cmd>
[[nodiscard]] auto uses_inbox(const Cmd& cmd) noexcept -> bool {
    if constexpr (records_processed_messages<Uow>) {
        return !cmd.message_id.empty();
    } else {
        return false;
    }
}
// Whether an error is a command's answer, recorded under its message id like a success: a
// refusal of the domain. A conflict, a storage error or a reused id is not: trying again may
// answer otherwise.
[[nodiscard]] inline auto is_answer(std::error_code ec) noexcept -> bool {
    return ec.category() == error_category() && ec != errc::conflict && ec != errc::storage_error &&
           ec != errc::message_id_reused;
}
// Looks the command's message id up in the inbox: `answer` then holds the result recorded when
// the message was processed. The same id with another fingerprint is errc::message_id_reused.
template <class Uow, class Cmd, class R>
auto replay(Uow& uow, const Cmd& cmd, std::optional<R>& answer) -> result<void> {
    if constexpr (records_processed_messages<Uow>) {
        if (!cmd.message_id.empty()) {
            if (!cmd.fingerprint.empty()) {
                ALLOCATION_TRYV(validate::identifier_text(cmd.fingerprint));
            }
            ALLOCATION_TRY(seen, uow.find_processed(cmd.message_id));
            if (seen) {
                const auto kept = inbox::open(*seen);
                if (kept.fingerprint != cmd.fingerprint) return errc::message_id_reused;
                answer.emplace(inbox::decode(kept.result, std::type_identity<R>{}));
            }
        }
    }
    return success();
}
// Records a result under the command's message id, to be committed with its changes.
template <class Uow, class Cmd>
auto record(Uow& uow, const Cmd& cmd, std::string_view result_text) -> result<void> {
    if constexpr (records_processed_messages<Uow>) {
        if (!cmd.message_id.empty()) return uow.record_processed(cmd.message_id, inbox::seal(cmd.fingerprint, result_text));
    }
    return success();
}
// Ends a command with `r` (a success, or an error that keeps the changes made, as out of stock
// keeps its event): records it under the message id and commits.
template <class Uow, class Cmd, class R>
auto finish(Uow& uow, const Cmd& cmd, R r) -> R {
    if (auto rec = record(uow, cmd, inbox::encode(r)); !rec) return abandon(uow, rec.error());
    ALLOCATION_TRYV(uow.commit());
    return r;
}
// Ends a command with error `ec`, nothing of its changes kept. A refusal of the domain under a
// message id is recorded (and committed alone), so that the message sent again is refused alike.
template <class Uow, class Cmd>
auto refuse(Uow& uow, const Cmd& cmd, std::error_code ec) -> std::error_code {
    uow.rollback();
    if (!uses_inbox<Uow>(cmd) || !is_answer(ec)) return ec;
    if (auto rec = record(uow, cmd, inbox::encode_error(ec)); !rec) return abandon(uow, rec.error());
    if (auto done = uow.commit(); !done) return done.error();
    return ec;
}
}  // namespace detail

/// Adds a batch, creating its product with `make(sku)` when the SKU is new. The same batch sent
/// again succeeds without change.
/// Errors: errc::invalid_identifier, invalid_quantity, duplicate_batch, message_id_reused, storage
/// errors.
template <unit_of_work Uow, class Make>
    requires std::is_invocable_r_v<product_t<Uow>, Make&, const typename product_t<Uow>::sku_type&>
auto create_batch(const commands::basic_create_batch<traits_of<Uow>>& cmd, Uow& uow, Make&& make) -> result<void> {
    using product_type = product_t<Uow>;
    ALLOCATION_TRYV(validate::identifier<traits_of<Uow>>(cmd.ref));
    ALLOCATION_TRYV(validate::identifier<traits_of<Uow>>(cmd.sku));
    ALLOCATION_TRYV(validate::batch_quantity<traits_of<Uow>>(cmd.qty));
    std::optional<result<void>> answer;
    ALLOCATION_TRYV(detail::replay(uow, cmd, answer));
    if (answer) return std::move(*answer);
    ALLOCATION_TRY(owner, uow.products().get_by_batch_ref(cmd.ref));
    if (owner != nullptr && !(owner->sku() == cmd.sku)) return detail::refuse(uow, cmd, errc::duplicate_batch);
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
        return detail::refuse(uow, cmd, r.error());
    }
    return detail::finish(uow, cmd, result<void>{success()});
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
/// conflicting_resubmission, message_id_reused, storage errors.
template <unit_of_work Uow>
auto allocate(const commands::basic_allocate<traits_of<Uow>>& cmd, Uow& uow)
    -> result<typename product_t<Uow>::batch_ref_type> {
    ALLOCATION_TRYV(validate::identifier<traits_of<Uow>>(cmd.order));
    ALLOCATION_TRYV(validate::identifier<traits_of<Uow>>(cmd.sku));
    ALLOCATION_TRYV(validate::line_quantity<traits_of<Uow>>(cmd.qty));
    std::optional<result<typename product_t<Uow>::batch_ref_type>> answer;
    ALLOCATION_TRYV(detail::replay(uow, cmd, answer));
    if (answer) return std::move(*answer);
    ALLOCATION_TRY(product, uow.products().get(cmd.sku));
    if (product == nullptr) return detail::refuse(uow, cmd, errc::invalid_sku);
    auto ref = product->allocate({cmd.order, cmd.sku, cmd.qty, cmd.context});
    if (!ref && ref.error() != errc::out_of_stock) return detail::refuse(uow, cmd, ref.error());
    return detail::finish(uow, cmd, std::move(ref));
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
    std::optional<result<std::vector<basic_line_allocation<traits_of<Uow>>>>> answer;
    ALLOCATION_TRYV(detail::replay(uow, cmd, answer));
    if (answer) return std::move(*answer);
    ALLOCATION_TRY(product, uow.products().get(cmd.sku));
    if (product == nullptr) return detail::refuse(uow, cmd, errc::invalid_sku);
    auto parts = product->allocate_split({cmd.order, cmd.sku, cmd.qty, cmd.context});
    if (!parts && parts.error() != errc::out_of_stock) return detail::refuse(uow, cmd, parts.error());
    return detail::finish(uow, cmd, std::move(parts));
}

/// Removes an order line's allocation; returns the batch it was taken from.
/// Errors: errc::invalid_identifier, invalid_quantity, invalid_sku, not_allocated,
/// quantity_mismatch, message_id_reused, storage errors.
template <unit_of_work Uow>
auto deallocate(const commands::basic_deallocate<traits_of<Uow>>& cmd, Uow& uow)
    -> result<typename product_t<Uow>::batch_ref_type> {
    ALLOCATION_TRYV(validate::identifier<traits_of<Uow>>(cmd.order));
    ALLOCATION_TRYV(validate::identifier<traits_of<Uow>>(cmd.sku));
    if (cmd.qty) {
        ALLOCATION_TRYV(validate::line_quantity<traits_of<Uow>>(*cmd.qty));
    }
    std::optional<result<typename product_t<Uow>::batch_ref_type>> answer;
    ALLOCATION_TRYV(detail::replay(uow, cmd, answer));
    if (answer) return std::move(*answer);
    ALLOCATION_TRY(product, uow.products().get(cmd.sku));
    if (product == nullptr) return detail::refuse(uow, cmd, errc::invalid_sku);
    auto ref = product->deallocate(cmd.order, cmd.qty);
    if (!ref) return detail::refuse(uow, cmd, ref.error());
    return detail::finish(uow, cmd, std::move(ref));
}

/// Sets a batch's purchased quantity; lines that no longer fit are deallocated (and the bus
/// reallocates them). Errors: errc::invalid_identifier, invalid_quantity, unknown_batch,
/// message_id_reused, storage errors.
template <unit_of_work Uow>
auto change_batch_quantity(const commands::basic_change_batch_quantity<traits_of<Uow>>& cmd, Uow& uow)
    -> result<void> {
    ALLOCATION_TRYV(validate::identifier<traits_of<Uow>>(cmd.ref));
    ALLOCATION_TRYV(validate::batch_quantity<traits_of<Uow>>(cmd.qty));
    std::optional<result<void>> answer;
    ALLOCATION_TRYV(detail::replay(uow, cmd, answer));
    if (answer) return std::move(*answer);
    ALLOCATION_TRY(product, uow.products().get_by_batch_ref(cmd.ref));
    if (product == nullptr) return detail::refuse(uow, cmd, errc::unknown_batch);
    if (auto r = product->change_batch_quantity(cmd.ref, cmd.qty); !r) return detail::refuse(uow, cmd, r.error());
    return detail::finish(uow, cmd, result<void>{success()});
}

/// Sets a product's replenishment rule. Errors: errc::invalid_identifier, invalid_quantity,
/// invalid_sku, message_id_reused, storage errors.
template <unit_of_work Uow>
auto set_replenishment(const commands::basic_set_replenishment<traits_of<Uow>>& cmd, Uow& uow) -> result<void> {
    ALLOCATION_TRYV(validate::identifier<traits_of<Uow>>(cmd.sku));
    std::optional<result<void>> answer;
    ALLOCATION_TRYV(detail::replay(uow, cmd, answer));
    if (answer) return std::move(*answer);
    ALLOCATION_TRY(product, uow.products().get(cmd.sku));
    if (product == nullptr) return detail::refuse(uow, cmd, errc::invalid_sku);
    if (auto r = product->set_replenishment(cmd.rule); !r) return detail::refuse(uow, cmd, r.error());
    return detail::finish(uow, cmd, result<void>{success()});
}

/// Allocates every line of an order or none, lines of the same SKU summed into one. Products
/// are taken in SKU order, so that concurrent orders cannot wait for each other. Returns one
/// allocation per distinct SKU, in the order the SKUs first appear. When a line is out of stock
/// the OutOfStock event is committed and nothing else.
/// Errors: errc::empty_order, invalid_identifier, invalid_quantity, invalid_sku, out_of_stock,
/// conflicting_resubmission, message_id_reused, conflict (stock changed while failing; retry),
/// storage errors.
template <unit_of_work Uow>
auto allocate_order(const commands::basic_allocate_order<traits_of<Uow>>& cmd, Uow& uow)
    -> result<std::vector<basic_line_allocation<traits_of<Uow>>>> {
    using traits = traits_of<Uow>;
    using quantity_type = typename traits::quantity_type;
    using product_type = product_t<Uow>;
    using result_type = result<std::vector<basic_line_allocation<traits>>>;
    if (cmd.lines.empty()) return errc::empty_order;
    ALLOCATION_TRYV(validate::identifier<traits_of<Uow>>(cmd.order));
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
    std::optional<result_type> answer;
    ALLOCATION_TRYV(detail::replay(uow, cmd, answer));
    if (answer) return std::move(*answer);
    std::vector<std::size_t> by_sku(merged.size());
    std::iota(by_sku.begin(), by_sku.end(), std::size_t{0});
    std::sort(by_sku.begin(), by_sku.end(), [&](std::size_t a, std::size_t b) { return merged[a].sku < merged[b].sku; });

    std::vector<basic_line_allocation<traits>> out(merged.size());
    for (const auto i : by_sku) {
        const auto& line = merged[i];
        ALLOCATION_TRY(found, uow.products().get(line.sku));
        product_type* product = found;
        if (product == nullptr) return detail::refuse(uow, cmd, errc::invalid_sku);
        auto ref = product->allocate({cmd.order, line.sku, line.qty, cmd.context});
        if (!ref) {
            if (ref.error() != errc::out_of_stock) return detail::refuse(uow, cmd, ref.error());
            // Undo the lines already allocated, then record the OutOfStock event alone.
            uow.rollback();
            ALLOCATION_TRY(again, uow.products().get(line.sku));
            product = again;
            if (product == nullptr) return detail::abandon(uow, errc::invalid_sku);
            if (product->allocate({cmd.order, line.sku, line.qty, cmd.context})) return detail::abandon(uow, errc::conflict);
            return detail::finish(uow, cmd, result_type{errc::out_of_stock});
        }
        out[i] = {line.sku, quantity_type{line.qty}, std::move(ref).value()};
    }
    return detail::finish(uow, cmd, result_type{std::move(out)});
}

/// Binds a message id to a message that was refused before it became a command (a request that
/// could not be read), so that the id stays the name of that message: the same message sent
/// again is refused again, another one under the id is errc::message_id_reused. Returns whether
/// the id was bound to this message before. Without an inbox, or without an id, binds nothing.
/// Errors: errc::invalid_identifier (a fingerprint with control characters), message_id_reused,
/// conflict (another writer bound the id at once; retry), storage errors.
template <unit_of_work Uow>
auto record_refusal(const std::string& message_id, const std::string& fingerprint, Uow& uow) -> result<bool> {
    if constexpr (records_processed_messages<Uow>) {
        if (message_id.empty()) return false;
        if (!fingerprint.empty()) {
            ALLOCATION_TRYV(validate::identifier_text(fingerprint));
        }
        ALLOCATION_TRY(seen, uow.find_processed(message_id));
        if (seen) {
            const auto kept = inbox::open(*seen);
            if (kept.fingerprint != fingerprint || kept.result != inbox::refused) return errc::message_id_reused;
            return true;
        }
        ALLOCATION_TRYV(uow.record_processed(message_id, inbox::seal(fingerprint, inbox::refused)));
        ALLOCATION_TRYV(uow.commit());
        return false;
    } else {
        (void)message_id;
        (void)fingerprint;
        (void)uow;
        return false;
    }
}

}  // namespace allocation::handlers

#endif  // ALLOCATION_BUS_HANDLERS_HPP
