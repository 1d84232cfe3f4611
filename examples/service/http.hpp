// allocation-service — the HTTP API: its endpoints on a router, the answers for every error,
// the Idempotency-Key. Independent of the server that carries the requests (http_server.hpp).
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_SERVICE_HTTP_HPP
#define ALLOCATION_SERVICE_HTTP_HPP

#include <algorithm>     // any_of
#include <optional>      // optional
#include <string>        // string
#include <system_error>  // error_code
#include <utility>       // move, as_const
#include <vector>        // vector

#include <allocation/bus/handlers.hpp>
#include <allocation/bus/message_bus.hpp>
#include <allocation/domain/validation.hpp>
#include <allocation/error.hpp>
#include <allocation/ports/inbox.hpp>
#include <allocation/ports/unit_of_work.hpp>
#include <fmt/format.h>

#include "http_message.hpp"
#include "idempotency.hpp"
#include "json_api.hpp"
#include "openapi_document.hpp"
#include "router.hpp"

namespace allocation::service {

namespace detail {

[[nodiscard]] inline auto answer(int status, std::string body) -> http_response {
    return {status, std::move(body), "application/json", {}};
}

[[nodiscard]] inline auto answer_error(const api_error& e) -> http_response { return answer(e.status, error_body(e.message)); }

/// Errors every endpoint maps the same way; the endpoint handles its own first.
[[nodiscard]] inline auto common_error(std::error_code ec) -> api_error {
    if (ec == errc::invalid_quantity || ec == errc::invalid_identifier || ec == errc::empty_order) {
        return {400, ec.message()};
    }
    if (ec == errc::conflict) return {503, "the product is busy, retry the request"};
    if (ec == errc::storage_error) return {503, "storage is unavailable, retry the request"};
    return {500, fmt::format("internal error: {}", ec.message())};
}

}  // namespace detail

/// The service's HTTP API over a message bus and its store, whose reads (product_reader) answer
/// the GET endpoints without holding anything a writer takes. A POST under an Idempotency-Key
/// goes to the bus with the key as the command's message id and a digest of the request as its
/// fingerprint: the store's inbox records the command's result in the transaction of the
/// change, and the same request again is answered from it (status and body as the first time,
/// with `Idempotent-Replayed: true`); another request under the key is answered 422. Everything
/// it is given must outlive it.
/// @tparam Store the bus's store; its units of work have an inbox.
template <class Store>
class http_api {
public:
    using bus_type = basic_message_bus<Store>;
    static_assert(records_processed_messages<unit_of_work_t<Store>>,
                  "the service answers Idempotency-Key requests from the store's inbox");
    static_assert(reads_holds<Store>, "the service reads an order's holds from the store");

    http_api(bus_type& bus, Store& store) : bus_(&bus), store_(&store) {}

    /// Adds the endpoints to `r`: one line each.
    void install(router& r) {
        post(r, "/allocate", &http_api::allocate);
        post(r, "/add_batch", &http_api::add_batch);
        post(r, "/orders", &http_api::allocate_order);
        post(r, "/deallocate", &http_api::deallocate);
        post(r, "/change_batch_quantity", &http_api::change_batch_quantity);
        post(r, "/holds", &http_api::hold);
        post(r, "/holds/{orderid}/confirm", &http_api::confirm_hold);
        get(r, "/holds/{orderid}", &http_api::held);
        r.del("/holds/{orderid}", [this](const http_request&, const route_params& p) { return release_hold(p[0]); });
        get(r, "/allocations/{orderid}", &http_api::allocations);
        get(r, "/products/{sku}", &http_api::product);
        get(r, "/backorders/{sku}", &http_api::backorders);
        r.del("/backorders/{sku}/{orderid}",
              [this](const http_request&, const route_params& p) { return cancel_backorder(p[0], p[1]); });
        r.get("/health", [](const http_request&, const route_params&) { return detail::answer(200, R"({"status":"ok"})"); },
              router::work::immediate);
        r.get("/openapi.json", [](const http_request&, const route_params&) { return detail::answer(200, std::string(openapi_document)); },
              router::work::immediate);
    }

private:
    using post_handler = http_response (http_api::*)(const http_request&, const route_params&, const idempotent_request&);
    using get_handler = http_response (http_api::*)(const std::string&);

    /// A POST endpoint, given the request's inbox name when it carries an Idempotency-Key.
    void post(router& r, std::string path, post_handler h) {
        r.post(std::move(path), [this, h](const http_request& req, const route_params& params) {
            const auto* key = req.header("Idempotency-Key");
            if (key == nullptr) return (this->*h)(req, params, idempotent_request{});
            if (!validate::identifier_text(*key)) {
                return detail::answer_error({400, validate::identifier_message("Idempotency-Key")});
            }
            return (this->*h)(req, params, idempotent(*key, req.method, req.path, req.body));
        });
    }
    /// A GET endpoint of one path parameter.
    void get(router& r, std::string pattern, get_handler h) {
        r.get(std::move(pattern), [this, h](const http_request&, const route_params& p) { return (this->*h)(p.front()); });
    }

    /// Sends a parsed command to the bus under the request's inbox name and answers with
    /// `render(command, result)`; a request that could not be read is refused (refused()).
    template <class Command, class Render>
    auto send(const idempotent_request& key, parsed<Command> cmd, Render render) -> http_response {
        if (!cmd) return refused(key, cmd.error());
        auto& c = cmd.value();
        c.message_id = key.message_id;
        c.fingerprint = key.fingerprint;
        // Answered from the inbox when the key is there already (with this request: the bus
        // replays its result; with another: message_id_reused). A request that met a concurrent
        // one under its key is answered from the inbox too, then without the header.
        const bool replayed = key.keyed() && processed_before(key.message_id);
        const auto r = bus_->handle(c);
        if (!r && r.error() == errc::message_id_reused) return reused(key);
        auto res = render(std::as_const(c), r);
        if (replayed && res.status < 500) res.headers.emplace_back("Idempotent-Replayed", "true");
        return res;
    }

    /// A request refused before it became a command. Under a key, the key is bound to it in the
    /// inbox, so that another request under the key is answered 422 (the same one is refused
    /// again alike: reading a request depends on nothing else).
    auto refused(const idempotent_request& key, const api_error& why) -> http_response {
        if (!key.keyed()) return detail::answer_error(why);
        const auto bound = bus_->run([&](unit_of_work_t<Store>& uow) {
            return handlers::record_refusal(key.message_id, key.fingerprint, uow);
        });
        if (!bound && bound.error() == errc::message_id_reused) return reused(key);
        if (!bound) return detail::answer_error(detail::common_error(bound.error()));
        auto res = detail::answer_error(why);
        if (bound.value()) res.headers.emplace_back("Idempotent-Replayed", "true");
        return res;
    }

    /// Whether the inbox holds a result under `message_id`.
    auto processed_before(const std::string& message_id) -> bool {
        auto uow = store_->begin();
        const auto seen = uow.find_processed(message_id);
        return seen && seen.value().has_value();
    }

    static auto reused(const idempotent_request& key) -> http_response {
        return detail::answer_error({422, fmt::format("Idempotency-Key {} was already used for another request", key.key)});
    }

    // ---- endpoints ----------------------------------------------------------------------------

    auto add_batch(const http_request& req, const route_params&, const idempotent_request& key) -> http_response {
        return send(key, parse_create_batch(req.body), [](const commands::create_batch& c, const result<void>& r) {
            if (r) return detail::answer(201, batchref_body(c.ref));
            if (r.error() == errc::duplicate_batch) {
                return detail::answer_error({409, fmt::format("Batch {} exists with other data", c.ref)});
            }
            return detail::answer_error(detail::common_error(r.error()));
        });
    }

    auto allocate(const http_request& req, const route_params&, const idempotent_request& key) -> http_response {
        return send(key, parse_allocate(req.body), [](const commands::allocate& c, const result<batch_ref>& r) {
            if (r) return detail::answer(202, batchref_body(r.value()));
            const auto ec = r.error();
            if (ec == errc::invalid_sku) return detail::answer_error({400, fmt::format("Invalid sku {}", c.sku)});
            if (ec == errc::out_of_stock) return detail::answer_error({409, fmt::format("Out of stock for sku {}", c.sku)});
            if (ec == errc::conflicting_resubmission) {
                return detail::answer_error(
                    {409, fmt::format("Order {} already has sku {} allocated with another quantity", c.order, c.sku)});
            }
            return detail::answer_error(detail::common_error(ec));
        });
    }

    auto allocate_order(const http_request& req, const route_params&, const idempotent_request& key) -> http_response {
        return send(key, parse_allocate_order(req.body),
                    [this](const commands::allocate_order& c, const result<std::vector<line_allocation>>& r) {
                        if (r && c.policy == order_policy::all_or_nothing) return detail::answer(202, order_body(c.order, r.value()));
                        if (r) return detail::answer(202, order_policy_body(c, r.value()));
                        const auto ec = r.error();
                        if (ec == errc::invalid_sku) {
                            return detail::answer_error({400, fmt::format("Invalid sku {}", unknown_sku(c.lines))});
                        }
                        if (ec == errc::out_of_stock && c.policy != order_policy::all_or_nothing) {
                            return detail::answer_error(
                                {409, fmt::format("Out of stock: nothing of order {} could be allocated", c.order)});
                        }
                        if (ec == errc::hold_conflict) {
                            return detail::answer_error({409, fmt::format("Order {} has a live hold of these lines", c.order)});
                        }
                        if (ec == errc::out_of_stock) {
                            return detail::answer_error(
                                {409, fmt::format("Out of stock: order {} cannot be allocated in full; nothing was allocated",
                                                  c.order)});
                        }
                        if (ec == errc::conflicting_resubmission) {
                            return detail::answer_error(
                                {409, fmt::format("Order {} already has a line allocated with another quantity", c.order)});
                        }
                        return detail::answer_error(detail::common_error(ec));
                    });
    }

    auto deallocate(const http_request& req, const route_params&, const idempotent_request& key) -> http_response {
        return send(key, parse_deallocate(req.body), [](const commands::deallocate& c, const result<batch_ref>& r) {
            if (r) return detail::answer(200, batchref_body(r.value()));
            const auto ec = r.error();
            if (ec == errc::invalid_sku || ec == errc::not_allocated) {
                return detail::answer_error({404, fmt::format("Order {} has no allocated line of sku {}", c.order, c.sku)});
            }
            if (ec == errc::quantity_mismatch) {
                return detail::answer_error(
                    {409, fmt::format("Order {} has sku {} allocated with another quantity", c.order, c.sku)});
            }
            return detail::answer_error(detail::common_error(ec));
        });
    }

    auto change_batch_quantity(const http_request& req, const route_params&, const idempotent_request& key) -> http_response {
        return send(key, parse_change_batch_quantity(req.body),
                    [](const commands::change_batch_quantity& c, const result<void>& r) {
                        if (r) return detail::answer(200, dump(json{{"batchref", c.ref.value}, {"qty", c.qty.value}}));
                        if (r.error() == errc::unknown_batch) {
                            return detail::answer_error({404, fmt::format("Unknown batch {}", c.ref)});
                        }
                        return detail::answer_error(detail::common_error(r.error()));
                    });
    }

    auto allocations(const std::string& id) -> http_response {
        if (!validate::identifier<default_traits>(order_id{id})) {
            return detail::answer_error({400, validate::identifier_message("orderid")});
        }
        auto found = store_->read_allocations(order_id{id});
        if (!found) return detail::answer_error(detail::common_error(found.error()));
        if (found.value().empty()) return detail::answer_error({404, fmt::format("No allocations for order {}", id)});
        std::vector<allocation_row> rows;
        for (const auto& a : found.value()) rows.push_back({a.sku, a.batch});
        return detail::answer(200, allocations_body(rows));
    }

    auto product(const std::string& id) -> http_response {
        if (!validate::identifier<default_traits>(sku{id})) {
            return detail::answer_error({400, validate::identifier_message("sku")});
        }
        auto found = store_->read_product(sku{id});
        if (!found) return detail::answer_error(detail::common_error(found.error()));
        if (!found.value()) return detail::answer_error({404, fmt::format("Unknown sku {}", id)});
        return detail::answer(200, product_body(found.value()->at(bus_->now())));
    }

    /// The first SKU of `lines` that no product has (after the bus said one is unknown).
    auto unknown_sku(const std::vector<commands::order_item>& lines) -> std::string {
        for (const auto& line : lines) {
            if (auto found = store_->read_product(line.sku); found && !found.value()) return line.sku.value;
        }
        return lines.front().sku.value;
    }

    /// The order's holds that live now (none when it has none, or when they are past their
    /// deadline); an error answer when the order id is invalid or storage fails.
    auto live_holds(const std::string& id, std::vector<held_line>& out) -> std::optional<http_response> {
        if (!validate::identifier<default_traits>(order_id{id})) {
            return detail::answer_error({400, validate::identifier_message("orderid")});
        }
        auto found = store_->read_holds(order_id{id});
        if (!found) return detail::answer_error(detail::common_error(found.error()));
        const auto now = bus_->now();
        for (auto& line : found.value()) {
            if (line.hold.expires_at > now) out.push_back(std::move(line));
        }
        return std::nullopt;
    }

    /// The lines of the order's hold changed between reading them and the command (another
    /// request released it and held others): the request can be sent again.
    static auto changed_meanwhile(const std::string& id) -> http_response {
        return detail::answer_error({503, fmt::format("The hold of order {} changed meanwhile, retry the request", id)});
    }

    static auto no_live_hold(const std::string& id) -> http_response {
        return detail::answer_error({404, fmt::format("Order {} has no live hold", id)});
    }

    // ---- holds and backorders -------------------------------------------------------------

    auto hold(const http_request& req, const route_params&, const idempotent_request& key) -> http_response {
        return send(key, parse_hold(req.body), [this](const commands::hold& c, const result<held_order>& r) {
            if (r) return detail::answer(r.value().replayed ? 200 : 201, hold_body(c.order, r.value().expires_at, r.value().lines));
            const auto ec = r.error();
            if (ec == errc::invalid_sku) return detail::answer_error({400, fmt::format("Invalid sku {}", unknown_sku(c.lines))});
            if (ec == errc::out_of_stock) {
                return detail::answer_error({409, fmt::format("Out of stock: order {} cannot be held in full; nothing was held", c.order)});
            }
            if (ec == errc::hold_conflict) {
                return detail::answer_error(
                    {409, fmt::format("Order {} has a live hold of other lines, or one of its lines is allocated or backordered", c.order)});
            }
            return detail::answer_error(detail::common_error(ec));
        });
    }

    auto held(const std::string& id) -> http_response {
        std::vector<held_line> lines;
        if (auto refused = live_holds(id, lines)) return *refused;
        if (lines.empty()) return no_live_hold(id);
        std::vector<line_allocation> out;
        for (const auto& l : lines) out.push_back({l.sku, l.hold.qty, l.hold.batch});
        return detail::answer(200, hold_body(order_id{id}, lines.front().hold.expires_at, std::move(out)));
    }

    /// Confirms the order's hold: the lines named (their quantities; every other SKU of the
    /// hold released), or every line whole. The SKUs of the hold come from the read side; an
    /// order whose hold is gone names the SKUs it has allocated (a confirmation done before,
    /// answered again) or none (the bus tells expired from unknown).
    auto confirm_hold(const http_request& req, const route_params& p, const idempotent_request& key) -> http_response {
        const auto& id = p[0];
        auto cmd = [&]() -> parsed<commands::confirm_hold> {
            if (!validate::identifier<default_traits>(order_id{id})) return api_error{400, validate::identifier_message("orderid")};
            auto named = parse_confirm_lines(req.body);
            if (!named) return named.error();
            auto holds = store_->read_holds(order_id{id});
            if (!holds) return detail::common_error(holds.error());
            commands::confirm_hold out{.order = order_id{id}, .lines = {}};
            // Names `s` with `qty` unless it is named already.
            const auto name = [&](const sku& s, std::optional<quantity> qty) {
                const bool named_already = std::any_of(out.lines.begin(), out.lines.end(), [&](const auto& l) { return l.sku == s; });
                if (!named_already) out.lines.push_back({s, qty});
            };
            if (named.value()) {
                out.lines = std::move(*named.value());
                for (const auto& h : holds.value()) name(h.sku, quantity{0});  // not named: released
            } else if (!holds.value().empty()) {
                for (const auto& h : holds.value()) name(h.sku, std::nullopt);
            } else {
                auto done = store_->read_allocations(order_id{id});
                if (!done) return detail::common_error(done.error());
                for (const auto& a : done.value()) name(a.sku, std::nullopt);
            }
            return out;
        }();
        return send(key, std::move(cmd), [](const commands::confirm_hold& c, const result<std::vector<line_allocation>>& r) {
            if (r) return detail::answer(202, order_body(c.order, r.value()));
            const auto ec = r.error();
            if (ec == errc::not_held) return no_live_hold(c.order.value);
            if (ec == errc::hold_expired) return detail::answer_error({410, fmt::format("The hold of order {} has expired", c.order)});
            if (ec == errc::exceeds_hold || ec == errc::invalid_sku) {
                return detail::answer_error(
                    {409, fmt::format("Order {} holds less than that: a quantity above the held one, or a SKU it does not hold", c.order)});
            }
            if (ec == errc::hold_conflict) return changed_meanwhile(c.order.value);
            return detail::answer_error(detail::common_error(ec));
        });
    }

    auto release_hold(const std::string& id) -> http_response {
        std::vector<held_line> lines;
        if (auto refused = live_holds(id, lines)) return *refused;
        if (lines.empty()) return no_live_hold(id);
        commands::release_hold cmd{.order = order_id{id}, .skus = {}};
        for (const auto& l : lines) cmd.skus.push_back(l.sku);
        const auto r = bus_->handle(cmd);
        if (r) return detail::answer(200, released_body(cmd.order, r.value()));
        if (r.error() == errc::not_held || r.error() == errc::invalid_sku) return no_live_hold(id);
        if (r.error() == errc::hold_conflict) return changed_meanwhile(id);
        return detail::answer_error(detail::common_error(r.error()));
    }

    auto backorders(const std::string& id) -> http_response {
        if (!validate::identifier<default_traits>(sku{id})) return detail::answer_error({400, validate::identifier_message("sku")});
        auto found = store_->read_product(sku{id});
        if (!found) return detail::answer_error(detail::common_error(found.error()));
        if (!found.value()) return detail::answer_error({404, fmt::format("Unknown sku {}", id)});
        return detail::answer(200, backorders_body(found.value()->backorders));
    }

    auto cancel_backorder(const std::string& s, const std::string& id) -> http_response {
        if (!validate::identifier<default_traits>(sku{s})) return detail::answer_error({400, validate::identifier_message("sku")});
        if (!validate::identifier<default_traits>(order_id{id})) {
            return detail::answer_error({400, validate::identifier_message("orderid")});
        }
        const auto r = bus_->handle(commands::cancel_backorder{.order = order_id{id}, .sku = sku{s}});
        if (r) return detail::answer(200, dump(json{{"orderid", id}, {"sku", s}}));
        if (r.error() == errc::not_backordered || r.error() == errc::invalid_sku) {
            return detail::answer_error({404, fmt::format("Order {} has no backorder of sku {}", id, s)});
        }
        return detail::answer_error(detail::common_error(r.error()));
    }

    bus_type* bus_;
    Store* store_;
};

}  // namespace allocation::service

#endif  // ALLOCATION_SERVICE_HTTP_HPP
