// allocation-service — the HTTP API: its endpoints on a router, the answers for every error,
// the Idempotency-Key. Independent of the server that carries the requests (http_server.hpp).
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_SERVICE_HTTP_HPP
#define ALLOCATION_SERVICE_HTTP_HPP

#include <string>        // string
#include <system_error>  // error_code
#include <utility>       // move
#include <vector>        // vector

#include <allocation/bus/message_bus.hpp>
#include <allocation/error.hpp>
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
/// the GET endpoints without holding anything a writer takes. Everything it is given must
/// outlive it.
/// @tparam Store the bus's store.
template <class Store>
class http_api {
public:
    using bus_type = basic_message_bus<Store>;

    http_api(bus_type& bus, Store& store, idempotency_store& keys) : bus_(&bus), store_(&store), keys_(&keys) {}

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
    using post_handler = http_response (http_api::*)(const http_request&);
    using get_handler = http_response (http_api::*)(const std::string&);

    /// A POST endpoint, behind the Idempotency-Key.
    void post(router& r, std::string path, post_handler h) {
        r.post(std::move(path), [this, h](const http_request& req, const route_params&) {
            return with_idempotency(req, [&] { return (this->*h)(req); });
        });
    }
    /// A GET endpoint of one path parameter.
    void get(router& r, std::string pattern, get_handler h) {
        r.get(std::move(pattern), [this, h](const http_request&, const route_params& p) { return (this->*h)(p.front()); });
    }

    /// The Idempotency-Key of a POST: the first answer (other than 5xx) is replayed to the same
    /// request; another request under the key is answered 422.
    template <class F>
    auto with_idempotency(const http_request& req, F&& work) -> http_response {
        const auto* header = req.header("Idempotency-Key");
        if (header == nullptr) return work();
        const auto& key = *header;
        if (!is_valid_identifier(key)) {
            return detail::answer_error({400, "Idempotency-Key must be 1 to 255 bytes of UTF-8 without control characters"});
        }
        const auto claim = keys_->claim(key, request_fingerprint(req.method, req.path, req.body));
        switch (claim.outcome) {
            case idempotency_claim::kind::replay: {
                auto res = detail::answer(claim.response.status, claim.response.body);
                res.headers.emplace_back("Idempotent-Replayed", "true");
                return res;
            }
            case idempotency_claim::kind::mismatch:
                return detail::answer_error({422, fmt::format("Idempotency-Key {} was already used for another request", key)});
            case idempotency_claim::kind::unavailable:
                return detail::answer_error({503, "storage is unavailable, retry the request"});
            case idempotency_claim::kind::proceed:
                break;
        }
        http_response res;
        try {
            res = work();
        } catch (...) {
            keys_->abandon(key);
            throw;
        }
        if (res.status >= 500) {
            keys_->abandon(key);
        } else if (auto sent = keys_->complete(key, {res.status, res.body}); sent.status != res.status || sent.body != res.body) {
            res = detail::answer(sent.status, std::move(sent.body));
            res.headers.emplace_back("Idempotent-Replayed", "true");
        }
        return res;
    }

    // ---- endpoints ----------------------------------------------------------------------------

    auto add_batch(const http_request& req) -> http_response {
        auto cmd = parse_create_batch(req.body);
        if (!cmd) return detail::answer_error(cmd.error());
        if (auto r = bus_->handle(cmd.value()); !r) {
            if (r.error() == errc::duplicate_batch) {
                return detail::answer_error({409, fmt::format("Batch {} exists with other data", cmd.value().ref)});
            }
            return detail::answer_error(detail::common_error(r.error()));
        }
        return detail::answer(201, batchref_body(cmd.value().ref));
    }

    auto allocate(const http_request& req) -> http_response {
        auto cmd = parse_allocate(req.body);
        if (!cmd) return detail::answer_error(cmd.error());
        const auto& c = cmd.value();
        auto r = bus_->handle(c);
        if (r) return detail::answer(202, batchref_body(r.value()));
        const auto ec = r.error();
        if (ec == errc::invalid_sku) return detail::answer_error({400, fmt::format("Invalid sku {}", c.sku)});
        if (ec == errc::out_of_stock) return detail::answer_error({409, fmt::format("Out of stock for sku {}", c.sku)});
        if (ec == errc::conflicting_resubmission) {
            return detail::answer_error(
                {409, fmt::format("Order {} already has sku {} allocated with another quantity", c.order, c.sku)});
        }
        return detail::answer_error(detail::common_error(ec));
    }

    auto allocate_order(const http_request& req) -> http_response {
        auto cmd = parse_allocate_order(req.body);
        if (!cmd) return detail::answer_error(cmd.error());
        const auto& c = cmd.value();
        auto r = bus_->handle(c);
        if (r) return detail::answer(202, order_body(c.order, r.value()));
        const auto ec = r.error();
        if (ec == errc::invalid_sku) {
            return detail::answer_error({400, fmt::format("Invalid sku {}", unknown_sku(c))});
        }
        if (ec == errc::out_of_stock) {
            return detail::answer_error(
                {409, fmt::format("Out of stock: order {} cannot be allocated in full; nothing was allocated", c.order)});
        }
        if (ec == errc::conflicting_resubmission) {
            return detail::answer_error(
                {409, fmt::format("Order {} already has a line allocated with another quantity", c.order)});
        }
        return detail::answer_error(detail::common_error(ec));
    }

    auto deallocate(const http_request& req) -> http_response {
        auto cmd = parse_deallocate(req.body);
        if (!cmd) return detail::answer_error(cmd.error());
        const auto& c = cmd.value();
        auto r = bus_->handle(c);
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
    }

    auto change_batch_quantity(const http_request& req) -> http_response {
        auto cmd = parse_change_batch_quantity(req.body);
        if (!cmd) return detail::answer_error(cmd.error());
        const auto& c = cmd.value();
        if (auto r = bus_->handle(c); !r) {
            if (r.error() == errc::unknown_batch) {
                return detail::answer_error({404, fmt::format("Unknown batch {}", c.ref)});
            }
            return detail::answer_error(detail::common_error(r.error()));
        }
        return detail::answer(200, dump(json{{"batchref", c.ref.value}, {"qty", c.qty.value}}));
    }

    auto allocations(const std::string& id) -> http_response {
        if (!is_valid_identifier(id)) {
            return detail::answer_error({400, "orderid must be 1 to 255 bytes of UTF-8 without control characters"});
        }
        auto found = store_->read_allocations(order_id{id});
        if (!found) return detail::answer_error(detail::common_error(found.error()));
        if (found.value().empty()) return detail::answer_error({404, fmt::format("No allocations for order {}", id)});
        std::vector<allocation_row> rows;
        for (const auto& a : found.value()) rows.push_back({a.sku, a.batch});
        return detail::answer(200, allocations_body(rows));
    }

    auto product(const std::string& id) -> http_response {
        if (!is_valid_identifier(id)) {
            return detail::answer_error({400, "sku must be 1 to 255 bytes of UTF-8 without control characters"});
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
    idempotency_store* keys_;
};

}  // namespace allocation::service

#endif  // ALLOCATION_SERVICE_HTTP_HPP
