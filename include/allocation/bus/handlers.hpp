// allocation — command handlers: each command's one unit of work over the repository.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_BUS_HANDLERS_HPP
#define ALLOCATION_BUS_HANDLERS_HPP

#include <algorithm>  // sort, find_if, find, any_of
#include <chrono>     // seconds, floor
#include <cstddef>    // size_t
#include <cstdint>    // uint32_t
#include <numeric>    // iota
#include <optional>   // optional
#include <string>     // string
#include <string_view>  // string_view
#include <type_traits>  // type_identity
#include <variant>    // get_if
#include <vector>     // vector

#include <allocation/domain/commands.hpp>
#include <allocation/domain/events.hpp>
#include <allocation/domain/types.hpp>
#include <allocation/domain/validation.hpp>
#include <allocation/error.hpp>
#include <allocation/ports/clock.hpp>
#include <allocation/ports/inbox.hpp>
#include <allocation/ports/inbox_holds.hpp>
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
// The inbox id under which a sweep notes that an order's hold expired, so that confirming it
// afterwards is answered hold_expired rather than not_held (its own namespace of ids).
template <class Id>
auto expired_hold_id(const Id& order) -> std::string {
    return "hold-expired:" + inbox::detail::text_of(order);
}
// Notes in the inbox, to be committed with the sweep, each order whose hold the events from
// `first` on expired.
template <class Uow, class Product>
auto note_expired(Uow& uow, const Product& p, std::size_t first) -> result<void> {
    if constexpr (records_processed_messages<Uow>) {
        const auto events = p.events();
        for (std::size_t i = first; i < events.size(); ++i) {
            if (const auto* e = std::get_if<events::basic_hold_expired<typename Product::traits_type>>(&events[i])) {
                auto id = expired_hold_id(e->order);
                ALLOCATION_TRY(seen, uow.find_processed(id));  // noted before: the id is kept once
                if (!seen) {
                    ALLOCATION_TRYV(uow.record_processed(id, std::string(inbox::refused)));
                }
            }
        }
    } else {
        (void)uow;
        (void)p;
        (void)first;
    }
    return success();
}
// Whether a sweep noted the order's hold as expired (note_expired).
template <class Uow, class Id>
auto noted_expired(Uow& uow, const Id& order) -> result<bool> {
    if constexpr (records_processed_messages<Uow>) {
        ALLOCATION_TRY(seen, uow.find_processed(expired_hold_id(order)));
        return seen.has_value();
    } else {
        (void)uow;
        (void)order;
        return false;
    }
}
// Validates the lines of an order and sums those naming the same SKU, in the order the SKUs
// first appear. Errors: errc::invalid_identifier, invalid_quantity.
template <class Traits>
auto merge_lines(const std::vector<commands::basic_order_item<Traits>>& lines)
    -> result<std::vector<commands::basic_order_item<Traits>>> {
    std::vector<commands::basic_order_item<Traits>> merged;
    for (const auto& line : lines) {
        ALLOCATION_TRYV(validate::identifier<Traits>(line.sku));
        ALLOCATION_TRYV(validate::line_quantity<Traits>(line.qty));
        const auto it = std::find_if(merged.begin(), merged.end(), [&](const auto& m) { return m.sku == line.sku; });
        if (it == merged.end()) {
            merged.push_back(line);
        } else {
            it->qty = it->qty + line.qty;
            ALLOCATION_TRYV(validate::line_quantity<Traits>(it->qty));
        }
    }
    return merged;
}
// The SKU of an item: a line's, or the item when it is a SKU.
template <class Item>
auto sku_of(const Item& item) -> const auto& {
    if constexpr (requires { item.sku; }) {
        return item.sku;
    } else {
        return item;
    }
}
// The indices of `items` in SKU order: products are taken in that order, so that concurrent
// commands cannot wait for each other.
template <class Items>
auto in_sku_order(const Items& items) -> std::vector<std::size_t> {
    std::vector<std::size_t> order(items.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return sku_of(items[a]) < sku_of(items[b]); });
    return order;
}
// Brings a product that has holds to the clock's time, so that no hold past its deadline
// counts; a product without holds never asks the clock.
template <class Product, class Clock>
void bring_to_now(Product& p, const Clock& time) {
    if (!p.holds().empty()) p.advance(time.now());
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
template <unit_of_work Uow, allocation::tells_time Clock = system_clock>
auto allocate(const commands::basic_allocate<traits_of<Uow>>& cmd, Uow& uow, const Clock& time = {})
    -> result<typename product_t<Uow>::batch_ref_type> {
    ALLOCATION_TRYV(validate::identifier<traits_of<Uow>>(cmd.order));
    ALLOCATION_TRYV(validate::identifier<traits_of<Uow>>(cmd.sku));
    ALLOCATION_TRYV(validate::line_quantity<traits_of<Uow>>(cmd.qty));
    std::optional<result<typename product_t<Uow>::batch_ref_type>> answer;
    ALLOCATION_TRYV(detail::replay(uow, cmd, answer));
    if (answer) return std::move(*answer);
    ALLOCATION_TRY(product, uow.products().get(cmd.sku));
    if (product == nullptr) return detail::refuse(uow, cmd, errc::invalid_sku);
    detail::bring_to_now(*product, time);
    auto ref = product->allocate({cmd.order, cmd.sku, cmd.qty, cmd.context});
    if (!ref && ref.error() != errc::out_of_stock) return detail::refuse(uow, cmd, ref.error());
    return detail::finish(uow, cmd, std::move(ref));
}

/// Allocates one order line, split over several batches when no batch takes it whole, and
/// commits; returns the parts (SKU, quantity, batch) in the order taken. A line already
/// allocated is answered with its parts, with no new event. Out of stock commits the OutOfStock
/// event. Errors: as allocate().
template <unit_of_work Uow, allocation::tells_time Clock = system_clock>
auto allocate_split(const commands::basic_allocate_split<traits_of<Uow>>& cmd, Uow& uow, const Clock& time = {})
    -> result<std::vector<basic_line_allocation<traits_of<Uow>>>> {
    ALLOCATION_TRYV(validate::identifier<traits_of<Uow>>(cmd.order));
    ALLOCATION_TRYV(validate::identifier<traits_of<Uow>>(cmd.sku));
    ALLOCATION_TRYV(validate::line_quantity<traits_of<Uow>>(cmd.qty));
    std::optional<result<std::vector<basic_line_allocation<traits_of<Uow>>>>> answer;
    ALLOCATION_TRYV(detail::replay(uow, cmd, answer));
    if (answer) return std::move(*answer);
    ALLOCATION_TRY(product, uow.products().get(cmd.sku));
    if (product == nullptr) return detail::refuse(uow, cmd, errc::invalid_sku);
    detail::bring_to_now(*product, time);
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
template <unit_of_work Uow, allocation::tells_time Clock = system_clock>
auto change_batch_quantity(const commands::basic_change_batch_quantity<traits_of<Uow>>& cmd, Uow& uow,
                           const Clock& time = {}) -> result<void> {
    ALLOCATION_TRYV(validate::identifier<traits_of<Uow>>(cmd.ref));
    ALLOCATION_TRYV(validate::batch_quantity<traits_of<Uow>>(cmd.qty));
    std::optional<result<void>> answer;
    ALLOCATION_TRYV(detail::replay(uow, cmd, answer));
    if (answer) return std::move(*answer);
    ALLOCATION_TRY(product, uow.products().get_by_batch_ref(cmd.ref));
    if (product == nullptr) return detail::refuse(uow, cmd, errc::unknown_batch);
    detail::bring_to_now(*product, time);
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

/// Allocates the lines of an order as `cmd.policy` says, lines of the same SKU summed into one.
/// Products are taken in SKU order, so that concurrent orders cannot wait for each other.
/// - all_or_nothing: every line whole in one batch, or none; returns one allocation per
///   distinct SKU, in the order the SKUs first appear. When a line is out of stock the
///   OutOfStock event is committed and nothing else.
/// - partial: each line takes what is available (see basic_product::allocate_available);
///   backorder: the same, and the rest of each line is queued at `cmd.priority`. Returns the
///   parts allocated, line by line in the order the SKUs first appear, several for a split line
///   and none for a line that got nothing: what a line asked minus what it got is what was left
///   unallocated (partial) or queued (backorder). Out of stock when nothing at all was allocated
///   under partial.
/// Errors: errc::empty_order, invalid_identifier, invalid_quantity, invalid_sku, out_of_stock,
/// conflicting_resubmission, hold_conflict (a line of a live hold), conflict (stock changed
/// while failing; retry), storage errors.
template <unit_of_work Uow, allocation::tells_time Clock = system_clock>
auto allocate_order(const commands::basic_allocate_order<traits_of<Uow>>& cmd, Uow& uow, const Clock& time = {})
    -> result<std::vector<basic_line_allocation<traits_of<Uow>>>> {
    using traits = traits_of<Uow>;
    using quantity_type = typename traits::quantity_type;
    using product_type = product_t<Uow>;
    using answer_type = result<std::vector<basic_line_allocation<traits>>>;
    if (cmd.lines.empty()) return errc::empty_order;
    ALLOCATION_TRYV(validate::identifier<traits_of<Uow>>(cmd.order));
    std::optional<answer_type> answer;
    ALLOCATION_TRYV(detail::replay(uow, cmd, answer));
    if (answer) return std::move(*answer);
    ALLOCATION_TRY(merged, detail::merge_lines<traits>(cmd.lines));
    const auto by_sku = detail::in_sku_order(merged);

    if (cmd.policy != order_policy::all_or_nothing) {
        std::vector<std::vector<basic_line_allocation<traits>>> parts(merged.size());
        bool any = false;
        for (const auto i : by_sku) {
            const auto& line = merged[i];
            ALLOCATION_TRY(found, uow.products().get(line.sku));
            product_type* product = found;
            if (product == nullptr) return detail::refuse(uow, cmd, errc::invalid_sku);
            detail::bring_to_now(*product, time);
            auto got = product->allocate_available({cmd.order, line.sku, line.qty, cmd.context}, cmd.policy, cmd.priority);
            if (!got) return detail::refuse(uow, cmd, got.error());
            any = any || !got.value().allocated.empty() || got.value().backordered > quantity_type{};
            parts[i] = std::move(got).value().allocated;
        }
        if (!any) return detail::refuse(uow, cmd, errc::out_of_stock);
        std::vector<basic_line_allocation<traits>> out;
        for (auto& p : parts) {
            for (auto& a : p) out.push_back(std::move(a));
        }
        return detail::finish(uow, cmd, answer_type{std::move(out)});
    }

    std::vector<basic_line_allocation<traits>> out(merged.size());
    for (const auto i : by_sku) {
        const auto& line = merged[i];
        ALLOCATION_TRY(found, uow.products().get(line.sku));
        product_type* product = found;
        if (product == nullptr) return detail::refuse(uow, cmd, errc::invalid_sku);
        detail::bring_to_now(*product, time);
        auto ref = product->allocate({cmd.order, line.sku, line.qty, cmd.context});
        if (!ref) {
            if (ref.error() != errc::out_of_stock) return detail::refuse(uow, cmd, ref.error());
            // Undo the lines already allocated, then record the OutOfStock event alone.
            uow.rollback();
            ALLOCATION_TRY(again, uow.products().get(line.sku));
            product = again;
            if (product == nullptr) return detail::abandon(uow, errc::invalid_sku);
            detail::bring_to_now(*product, time);
            if (product->allocate({cmd.order, line.sku, line.qty, cmd.context})) return detail::abandon(uow, errc::conflict);
            return detail::finish(uow, cmd, answer_type{errc::out_of_stock});
        }
        out[i] = {line.sku, quantity_type{line.qty}, std::move(ref).value()};
    }
    return detail::finish(uow, cmd, answer_type{std::move(out)});
}

// -- holds and backorders ----------------------------------------------------------------------

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

/// Holds every line of an order for `cmd.ttl` or none, lines of the same SKU summed, each line
/// whole in one batch (see basic_product::hold). The deadline is the clock's time, rounded up
/// to a whole second, plus the ttl: a hold lives at least its ttl, and its deadline can be told
/// in whole seconds exactly. Products are taken in SKU order. The same lines again
/// while the hold lives are answered with the live hold (`replayed`), changing nothing.
/// Errors: errc::empty_order, invalid_identifier, invalid_quantity, invalid_deadline (ttl not
/// positive), invalid_sku, out_of_stock (a line no batch can take: nothing is held),
/// hold_conflict (the order has a live hold of other lines, or a line is allocated or
/// backordered), storage errors.
///
/// A product knows the holds of its own SKU only: `held_elsewhere` names the SKUs where the
/// caller read that the order has holds (a store's read_holds, as the bus does). Those products
/// are taken in the unit of work too, and a live hold of the order on one that the command does
/// not name is errc::hold_conflict.
template <unit_of_work Uow, allocation::tells_time Clock = system_clock>
auto hold(const commands::basic_hold<traits_of<Uow>>& cmd, Uow& uow, const Clock& time = {},
          const std::vector<typename traits_of<Uow>::sku_type>& held_elsewhere = {})
    -> result<basic_held_order<traits_of<Uow>>> {
    using traits = traits_of<Uow>;
    using answer_type = result<basic_held_order<traits>>;
    if (cmd.lines.empty()) return errc::empty_order;
    ALLOCATION_TRYV(validate::identifier<traits>(cmd.order));
    if (cmd.ttl <= std::chrono::seconds{0}) return errc::invalid_deadline;
    ALLOCATION_TRY(merged, detail::merge_lines<traits>(cmd.lines));
    std::optional<answer_type> answer;
    ALLOCATION_TRYV(detail::replay(uow, cmd, answer));
    if (answer) {
        if (*answer) answer->value().order = cmd.order;
        return std::move(*answer);
    }
    const auto now = time.now();
    for (const auto& s : held_elsewhere) {
        if (std::any_of(merged.begin(), merged.end(), [&](const auto& line) { return line.sku == s; })) continue;
        ALLOCATION_TRY(other, uow.products().get(s));
        if (other == nullptr) continue;
        const auto* h = other->find_hold(cmd.order);
        if (h != nullptr && h->expires_at > now) return detail::refuse(uow, cmd, errc::hold_conflict);
    }
    const timestamp expires = std::chrono::ceil<std::chrono::seconds>(now) + cmd.ttl;
    basic_held_order<traits> out{cmd.order, expires, std::vector<basic_line_allocation<traits>>(merged.size()), false};
    std::size_t placed = 0;
    std::size_t live = 0;
    for (const auto i : detail::in_sku_order(merged)) {
        const auto& line = merged[i];
        ALLOCATION_TRY(product, uow.products().get(line.sku));
        if (product == nullptr) return detail::refuse(uow, cmd, errc::invalid_sku);
        auto h = product->hold({cmd.order, line.sku, line.qty}, expires, now, static_cast<std::uint32_t>(merged.size()));
        if (!h) {
            return detail::refuse(uow, cmd, h.error());
        }
        ++(h.value().placed ? placed : live);
        if (!h.value().placed) out.expires_at = h.value().hold.expires_at;
        out.lines[i] = {line.sku, line.qty, std::move(h).value().hold.batch};
    }
    if (placed > 0 && live > 0) return detail::refuse(uow, cmd, errc::hold_conflict);
    out.replayed = live > 0;
    return detail::finish(uow, cmd, answer_type{std::move(out)});
}

/// Confirms an order's live hold: each line's quantity (none: all of it) becomes an allocation
/// in the batch that held it, the rest of the line is released; a line of quantity zero is
/// released whole. `cmd.lines` names every SKU of the hold. Returns the allocations in the
/// order the lines are named. A confirmation done before is answered with its allocations.
/// With no line named, the order is known to have no hold: the answer says whether a sweep
/// expired one (hold_expired, kept in the inbox of a unit of work that has one) or not
/// (not_held); a confirmation naming lines of a swept hold is answered the same.
/// Errors: errc::invalid_identifier, invalid_quantity, invalid_sku, not_held (no line is held),
/// exceeds_hold (a quantity above the held one, or a SKU not held beside held ones),
/// hold_expired (past its deadline, swept or not), hold_conflict (not every line of the hold
/// named), storage errors.
template <unit_of_work Uow, allocation::tells_time Clock = system_clock>
auto confirm_hold(const commands::basic_confirm_hold<traits_of<Uow>>& cmd, Uow& uow, const Clock& time = {})
    -> result<std::vector<basic_line_allocation<traits_of<Uow>>>> {
    using traits = traits_of<Uow>;
    using answer_type = result<std::vector<basic_line_allocation<traits>>>;
    ALLOCATION_TRYV(validate::identifier<traits>(cmd.order));
    if (cmd.lines.empty()) {
        // No SKU named (the caller knows of no hold of the order): a hold the sweep took is
        // answered as expired, else there is none.
        std::optional<answer_type> answer;
        ALLOCATION_TRYV(detail::replay(uow, cmd, answer));
        if (answer) return std::move(*answer);
        ALLOCATION_TRY(expired, detail::noted_expired(uow, cmd.order));
        return detail::refuse(uow, cmd, expired ? errc::hold_expired : errc::not_held);
    }
    std::vector<commands::basic_confirm_item<traits>> merged;
    for (const auto& line : cmd.lines) {
        ALLOCATION_TRYV(validate::identifier<traits>(line.sku));
        if (line.qty) {
            ALLOCATION_TRYV(validate::batch_quantity<traits>(*line.qty));
        }
        const auto it = std::find_if(merged.begin(), merged.end(), [&](const auto& m) { return m.sku == line.sku; });
        if (it == merged.end()) {
            merged.push_back(line);
        } else if (!it->qty || !line.qty) {
            it->qty.reset();
        } else {
            it->qty = *it->qty + *line.qty;
            ALLOCATION_TRYV(validate::batch_quantity<traits>(*it->qty));
        }
    }
    std::optional<answer_type> answer;
    ALLOCATION_TRYV(detail::replay(uow, cmd, answer));
    if (answer) return std::move(*answer);
    const auto now = time.now();
    std::vector<std::optional<basic_line_allocation<traits>>> done(merged.size());
    bool missing = false;
    bool found = false;
    for (const auto i : detail::in_sku_order(merged)) {
        const auto& line = merged[i];
        ALLOCATION_TRY(product, uow.products().get(line.sku));
        if (product == nullptr) return detail::refuse(uow, cmd, errc::invalid_sku);
        product->advance(now);
        const auto* h = product->find_hold(cmd.order);
        // Fewer lines named than the hold has: not every line named. More: some name a SKU the
        // order does not hold, refused below as exceeds_hold.
        if (h != nullptr && !h->lapsed && h->lines > merged.size()) {
            return detail::refuse(uow, cmd, errc::hold_conflict);
        }
        if (line.qty && allocation::detail::count(*line.qty) == 0) {
            if (h == nullptr) continue;  // nothing held here: nothing to release
            if (h->lapsed) return detail::refuse(uow, cmd, errc::hold_expired);
            if (auto r = product->release_hold(cmd.order, now); !r) return detail::refuse(uow, cmd, r.error());
            found = true;
            continue;
        }
        auto a = product->confirm_hold(cmd.order, line.qty, now);
        if (!a) {
            if (a.error() == errc::not_held) {
                missing = true;
                continue;
            }
            return detail::refuse(uow, cmd, a.error());
        }
        found = true;
        done[i] = std::move(a).value();
    }
    if (missing && !found) {
        // No line held: a hold the sweep took is answered as expired, else there is none.
        ALLOCATION_TRY(expired, detail::noted_expired(uow, cmd.order));
        return detail::refuse(uow, cmd, expired ? errc::hold_expired : errc::not_held);
    }
    if (missing) return detail::refuse(uow, cmd, errc::exceeds_hold);
    std::vector<basic_line_allocation<traits>> out;
    for (auto& a : done) {
        if (a) out.push_back(std::move(*a));
    }
    return detail::finish(uow, cmd, answer_type{std::move(out)});
}

/// Releases an order's live hold, every line of it (`cmd.skus` names every SKU of the hold);
/// returns what was released, in the order the SKUs are named.
/// Errors: errc::empty_order, invalid_identifier, invalid_sku, not_held (a SKU without a live
/// hold: nothing is released), hold_conflict (not every line of the hold named), storage errors.
template <unit_of_work Uow, allocation::tells_time Clock = system_clock>
auto release_hold(const commands::basic_release_hold<traits_of<Uow>>& cmd, Uow& uow, const Clock& time = {})
    -> result<std::vector<basic_line_allocation<traits_of<Uow>>>> {
    using traits = traits_of<Uow>;
    using answer_type = result<std::vector<basic_line_allocation<traits>>>;
    if (cmd.skus.empty()) return errc::empty_order;
    ALLOCATION_TRYV(validate::identifier<traits>(cmd.order));
    std::vector<typename traits::sku_type> skus;
    for (const auto& s : cmd.skus) {
        ALLOCATION_TRYV(validate::identifier<traits>(s));
        if (std::find(skus.begin(), skus.end(), s) == skus.end()) skus.push_back(s);
    }
    std::optional<answer_type> answer;
    ALLOCATION_TRYV(detail::replay(uow, cmd, answer));
    if (answer) return std::move(*answer);
    const auto now = time.now();
    std::vector<basic_line_allocation<traits>> out(skus.size());
    for (const auto i : detail::in_sku_order(skus)) {
        ALLOCATION_TRY(product, uow.products().get(skus[i]));
        if (product == nullptr) return detail::refuse(uow, cmd, errc::invalid_sku);
        product->advance(now);
        const auto* h = product->find_hold(cmd.order);
        if (h != nullptr && !h->lapsed && h->lines != skus.size()) {
            return detail::refuse(uow, cmd, errc::hold_conflict);
        }
        auto released = product->release_hold(cmd.order, now);
        if (!released) return detail::refuse(uow, cmd, released.error());
        out[i] = {skus[i], released.value().qty, std::move(released).value().batch};
    }
    return detail::finish(uow, cmd, answer_type{std::move(out)});
}

/// Sweeps the holds past their deadline out of the products of `cmd.skus` (unknown SKUs are
/// skipped), each raising HoldExpired; returns how many. Errors: errc::invalid_identifier,
/// storage errors.
template <unit_of_work Uow, allocation::tells_time Clock = system_clock>
auto expire_holds(const commands::basic_expire_holds<traits_of<Uow>>& cmd, Uow& uow, const Clock& time = {})
    -> result<std::size_t> {
    using traits = traits_of<Uow>;
    for (const auto& s : cmd.skus) {
        ALLOCATION_TRYV(validate::identifier<traits>(s));
    }
    const auto now = time.now();
    std::size_t swept = 0;
    const auto order = detail::in_sku_order(cmd.skus);
    for (std::size_t k = 0; k < order.size(); ++k) {
        const auto& s = cmd.skus[order[k]];
        if (k > 0 && cmd.skus[order[k - 1]] == s) continue;
        ALLOCATION_TRY(product, uow.products().get(s));
        if (product == nullptr) continue;
        const auto first = product->events().size();
        const auto n = product->expire_holds(now);
        if (n == 0) continue;
        swept += n;
        if (auto noted = detail::note_expired(uow, *product, first); !noted) return detail::abandon(uow, noted.error());
    }
    ALLOCATION_TRYV(uow.commit());
    return swept;
}

/// Cancels an order line's backorder (what it has allocated stays).
/// Errors: errc::invalid_identifier, invalid_sku, not_backordered, storage errors.
template <unit_of_work Uow>
auto cancel_backorder(const commands::basic_cancel_backorder<traits_of<Uow>>& cmd, Uow& uow) -> result<void> {
    using traits = traits_of<Uow>;
    ALLOCATION_TRYV(validate::identifier<traits>(cmd.order));
    ALLOCATION_TRYV(validate::identifier<traits>(cmd.sku));
    std::optional<result<void>> answer;
    ALLOCATION_TRYV(detail::replay(uow, cmd, answer));
    if (answer) return std::move(*answer);
    ALLOCATION_TRY(product, uow.products().get(cmd.sku));
    if (product == nullptr) return detail::refuse(uow, cmd, errc::invalid_sku);
    if (auto r = product->cancel_backorder(cmd.order); !r) return detail::refuse(uow, cmd, r.error());
    return detail::finish(uow, cmd, result<void>{success()});
}

}  // namespace allocation::handlers

#endif  // ALLOCATION_BUS_HANDLERS_HPP
