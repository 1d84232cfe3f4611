// allocation-service — the HTTP API: its endpoints on a router, the answers for every error,
// the Idempotency-Key. Independent of the server that carries the requests (http_server.hpp).
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_SERVICE_HTTP_HPP
#define ALLOCATION_SERVICE_HTTP_HPP

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

    http_api(bus_type& bus, Store& store) : bus_(&bus), store_(&store) {}

    /// Adds the endpoints to `r`: one line each.
    void install(router& r) {
        post(r, "/allocate", &http_api::allocate);
        post(r, "/add_batch", &http_api::add_batch);
        post(r, "/orders", &http_api::allocate_order);
        post(r, "/deallocate", &http_api::deallocate);
        post(r, "/change_batch_quantity", &http_api::change_batch_quantity);
        get(r, "/allocations/{orderid}", &http_api::allocations);
        get(r, "/products/{sku}", &http_api::product);
        r.get("/health", [](const http_request&, const route_params&) { return detail::answer(200, R"({"status":"ok"})"); },
              router::work::immediate);
        r.get("/openapi.json", [](const http_request&, const route_params&) { return detail::answer(200, std::string(openapi_document)); },
              router::work::immediate);
    }

private:
    using post_handler = http_response (http_api::*)(const http_request&, const idempotent_request&);
    using get_handler = http_response (http_api::*)(const std::string&);

    /// A POST endpoint, given the request's inbox name when it carries an Idempotency-Key.
    void post(router& r, std::string path, post_handler h) {
        r.post(std::move(path), [this, h](const http_request& req, const route_params&) {
            const auto* key = req.header("Idempotency-Key");
            if (key == nullptr) return (this->*h)(req, idempotent_request{});
            if (!validate::identifier_text(*key)) {
                return detail::answer_error({400, validate::identifier_message("Idempotency-Key")});
            }
            return (this->*h)(req, idempotent(*key, req.method, req.path, req.body));
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

    auto add_batch(const http_request& req, const idempotent_request& key) -> http_response {
        return send(key, parse_create_batch(req.body), [](const commands::create_batch& c, const result<void>& r) {
            if (r) return detail::answer(201, batchref_body(c.ref));
            if (r.error() == errc::duplicate_batch) {
                return detail::answer_error({409, fmt::format("Batch {} exists with other data", c.ref)});
            }
            return detail::answer_error(detail::common_error(r.error()));
        });
    }

    auto allocate(const http_request& req, const idempotent_request& key) -> http_response {
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

    auto allocate_order(const http_request& req, const idempotent_request& key) -> http_response {
        return send(key, parse_allocate_order(req.body),
                    [this](const commands::allocate_order& c, const result<std::vector<line_allocation>>& r) {
                        if (r) return detail::answer(202, order_body(c.order, r.value()));
                        const auto ec = r.error();
                        if (ec == errc::invalid_sku) {
                            return detail::answer_error({400, fmt::format("Invalid sku {}", unknown_sku(c))});
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

    auto deallocate(const http_request& req, const idempotent_request& key) -> http_response {
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

    auto change_batch_quantity(const http_request& req, const idempotent_request& key) -> http_response {
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
        return detail::answer(200, product_body(*found.value()));
    }

    /// The first SKU of an order that no product has (after the bus said one is unknown).
    auto unknown_sku(const commands::allocate_order& c) -> std::string {
        for (const auto& line : c.lines) {
            if (auto found = store_->read_product(line.sku); found && !found.value()) return line.sku.value;
        }
        return c.lines.front().sku.value;
    }

    bus_type* bus_;
    Store* store_;
};

}  // namespace allocation::service

#endif  // ALLOCATION_SERVICE_HTTP_HPP
