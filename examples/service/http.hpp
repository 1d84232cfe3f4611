// allocation-service — the HTTP API on cpp-httplib: routes, answers for every error, the
// Idempotency-Key, one log line per request.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_SERVICE_HTTP_HPP
#define ALLOCATION_SERVICE_HTTP_HPP

#include <chrono>        // steady_clock
#include <cstddef>       // size_t
#include <exception>     // exception_ptr, rethrow_exception
#include <regex>         // regex, regex_match
#include <string>        // string
#include <string_view>   // string_view
#include <system_error>  // error_code
#include <utility>       // move
#include <vector>        // vector

#include <allocation/bus/message_bus.hpp>
#include <allocation/error.hpp>
#include <fmt/format.h>
#include <httplib.h>

#include "idempotency.hpp"
#include "json_api.hpp"
#include "log.hpp"

namespace allocation::service {

/// The largest request body accepted; a larger one is answered 413.
inline constexpr std::size_t max_body_bytes = 1024 * 1024;

namespace detail {

inline void answer(httplib::Response& res, int status, std::string body) {
    res.status = status;
    res.set_content(std::move(body), "application/json");
}

inline void answer_error(httplib::Response& res, const api_error& e) { answer(res, e.status, error_body(e.message)); }

/// Errors every endpoint maps the same way; the endpoint handles its own first.
[[nodiscard]] inline auto common_error(std::error_code ec) -> api_error {
    if (ec == errc::invalid_quantity || ec == errc::invalid_identifier || ec == errc::empty_order) {
        return {400, ec.message()};
    }
    if (ec == errc::conflict) return {503, "the product is busy, retry the request"};
    if (ec == errc::storage_error) return {503, "storage is unavailable, retry the request"};
    return {500, fmt::format("internal error: {}", ec.message())};
}

struct route {
    std::string method;
    std::regex pattern;
};

}  // namespace detail

/// The service's HTTP API over a message bus, its store (read for GET /products) and the
/// allocations read model (GET /allocations). Everything it is given must outlive it.
/// @tparam Store the bus's store; @tparam View an allocations_view.
template <class Store, class View>
class http_api {
public:
    using bus_type = basic_message_bus<Store>;

    http_api(bus_type& bus, Store& store, View& view, idempotency_store& keys)
        : bus_(&bus), store_(&store), view_(&view), keys_(&keys) {}

    /// Installs the routes, limits, error answers and logging on `server`.
    void install(httplib::Server& server) {
        post(server, "/allocate", &http_api::allocate);
        post(server, "/add_batch", &http_api::add_batch);
        post(server, "/orders", &http_api::allocate_order);
        post(server, "/deallocate", &http_api::deallocate);
        post(server, "/change_batch_quantity", &http_api::change_batch_quantity);
        get(server, R"(/allocations/(.+))", &http_api::allocations);
        get(server, R"(/products/(.+))", &http_api::product);
        get(server, "/health", [](http_api&, const httplib::Request&, httplib::Response& res) {
            detail::answer(res, 200, R"({"status":"ok"})");
        });

        server.set_payload_max_length(max_body_bytes);
        server.set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
            request_start() = std::chrono::steady_clock::now();
            return httplib::Server::HandlerResponse::Unhandled;
        });
        // Called for every answer of status >= 400; fills in those cpp-httplib made itself.
        server.set_error_handler(httplib::Server::HandlerWithResponse(
            [this](const httplib::Request& req, httplib::Response& res) {
                if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
                fill_error(req, res);
                return httplib::Server::HandlerResponse::Handled;
            }));
        server.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
            std::string what = "unknown exception";
            try {
                std::rethrow_exception(ep);
            } catch (const std::exception& e) {
                what = e.what();
            } catch (...) {
            }
            log("error: {} {} threw: {}", req.method, req.path, what);
            detail::answer(res, 500, error_body("internal error"));
        });
        server.set_logger([](const httplib::Request& req, const httplib::Response& res) {
            auto& start = request_start();
            const auto took = start == std::chrono::steady_clock::time_point{}
                                  ? 0.0
                                  : std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
            start = {};
            log("{} \"{} {}\" {} {}B {:.2f}ms", req.remote_addr, req.method, req.path, res.status, res.body.size(), took);
        });
    }

private:
    using member_handler = void (http_api::*)(const httplib::Request&, httplib::Response&);

    static auto request_start() -> std::chrono::steady_clock::time_point& {
        thread_local std::chrono::steady_clock::time_point start{};
        return start;
    }

    void post(httplib::Server& server, const std::string& path, member_handler h) {
        routes_.push_back({"POST", std::regex(path)});
        server.Post(path, [this, h](const httplib::Request& req, httplib::Response& res) {
            with_idempotency(req, res, [&] { (this->*h)(req, res); });
        });
    }
    template <class F>
    void get(httplib::Server& server, const std::string& pattern, F handler) {
        routes_.push_back({"GET", std::regex(pattern)});
        if constexpr (std::is_member_function_pointer_v<F>) {
            server.Get(pattern, [this, handler](const httplib::Request& req, httplib::Response& res) { (this->*handler)(req, res); });
        } else {
            server.Get(pattern, [this, handler](const httplib::Request& req, httplib::Response& res) { handler(*this, req, res); });
        }
    }

    /// The Idempotency-Key of a POST: the first answer (other than 5xx) is replayed to the same
    /// request; another request under the key is answered 422.
    template <class F>
    void with_idempotency(const httplib::Request& req, httplib::Response& res, F&& work) {
        if (!req.has_header("Idempotency-Key")) {
            work();
            return;
        }
        const auto key = req.get_header_value("Idempotency-Key");
        if (!is_valid_identifier(key)) {
            detail::answer_error(res, {400, "Idempotency-Key must be 1 to 255 bytes of UTF-8 without control characters"});
            return;
        }
        const auto claim = keys_->claim(key, request_fingerprint(req.method, req.path, req.body));
        switch (claim.outcome) {
            case idempotency_claim::kind::replay:
                res.set_header("Idempotent-Replayed", "true");
                detail::answer(res, claim.response.status, claim.response.body);
                return;
            case idempotency_claim::kind::mismatch:
                detail::answer_error(res, {422, fmt::format("Idempotency-Key {} was already used for another request", key)});
                return;
            case idempotency_claim::kind::unavailable:
                detail::answer_error(res, {503, "storage is unavailable, retry the request"});
                return;
            case idempotency_claim::kind::proceed:
                break;
        }
        try {
            work();
        } catch (...) {
            keys_->abandon(key);
            throw;
        }
        if (res.status >= 500) {
            keys_->abandon(key);
        } else if (auto sent = keys_->complete(key, {res.status, res.body}); sent.status != res.status || sent.body != res.body) {
            res.set_header("Idempotent-Replayed", "true");
            detail::answer(res, sent.status, std::move(sent.body));
        }
    }

    void fill_error(const httplib::Request& req, httplib::Response& res) const {
        switch (res.status) {
            case 404: {
                std::string allowed;
                for (const auto& r : routes_) {
                    if (r.method != req.method && std::regex_match(req.path, r.pattern)) {
                        allowed = r.method == "GET" ? "GET, HEAD" : r.method;
                    }
                }
                if (!allowed.empty()) {
                    res.set_header("Allow", allowed);
                    detail::answer_error(res, {405, fmt::format("Method {} not allowed on {}; use {}", req.method, req.path, allowed)});
                } else {
                    detail::answer_error(res, {404, fmt::format("Not found: {} {}", req.method, req.path)});
                }
                return;
            }
            case 413:
                detail::answer_error(res, {413, fmt::format("Request body larger than {} bytes", max_body_bytes)});
                return;
            case 414: detail::answer_error(res, {414, "Request URI too long"}); return;
            case 400: detail::answer_error(res, {400, "Bad request"}); return;
            default: detail::answer_error(res, {res.status, fmt::format("HTTP error {}", res.status)}); return;
        }
    }

    // ---- endpoints ----------------------------------------------------------------------------

    void add_batch(const httplib::Request& req, httplib::Response& res) {
        auto cmd = parse_create_batch(req.body);
        if (!cmd) return detail::answer_error(res, cmd.error());
        if (auto r = bus_->handle(cmd.value()); !r) {
            if (r.error() == errc::duplicate_batch) {
                return detail::answer_error(res, {409, fmt::format("Batch {} exists with other data", cmd.value().ref)});
            }
            return detail::answer_error(res, detail::common_error(r.error()));
        }
        detail::answer(res, 201, batchref_body(cmd.value().ref));
    }

    void allocate(const httplib::Request& req, httplib::Response& res) {
        auto cmd = parse_allocate(req.body);
        if (!cmd) return detail::answer_error(res, cmd.error());
        const auto& c = cmd.value();
        auto r = bus_->handle(c);
        if (r) return detail::answer(res, 202, batchref_body(r.value()));
        const auto ec = r.error();
        if (ec == errc::invalid_sku) return detail::answer_error(res, {400, fmt::format("Invalid sku {}", c.sku)});
        if (ec == errc::out_of_stock) return detail::answer_error(res, {409, fmt::format("Out of stock for sku {}", c.sku)});
        if (ec == errc::conflicting_resubmission) {
            return detail::answer_error(
                res, {409, fmt::format("Order {} already has sku {} allocated with another quantity", c.order, c.sku)});
        }
        detail::answer_error(res, detail::common_error(ec));
    }

    void allocate_order(const httplib::Request& req, httplib::Response& res) {
        auto cmd = parse_allocate_order(req.body);
        if (!cmd) return detail::answer_error(res, cmd.error());
        const auto& c = cmd.value();
        auto r = bus_->handle(c);
        if (r) return detail::answer(res, 202, order_body(c.order, r.value()));
        const auto ec = r.error();
        if (ec == errc::invalid_sku) {
            return detail::answer_error(res, {400, fmt::format("Invalid sku {}", unknown_sku(c))});
        }
        if (ec == errc::out_of_stock) {
            return detail::answer_error(
                res, {409, fmt::format("Out of stock: order {} cannot be allocated in full; nothing was allocated", c.order)});
        }
        if (ec == errc::conflicting_resubmission) {
            return detail::answer_error(
                res, {409, fmt::format("Order {} already has a line allocated with another quantity", c.order)});
        }
        detail::answer_error(res, detail::common_error(ec));
    }

    void deallocate(const httplib::Request& req, httplib::Response& res) {
        auto cmd = parse_deallocate(req.body);
        if (!cmd) return detail::answer_error(res, cmd.error());
        const auto& c = cmd.value();
        auto r = bus_->handle(c);
        if (r) return detail::answer(res, 200, batchref_body(r.value()));
        const auto ec = r.error();
        if (ec == errc::invalid_sku || ec == errc::not_allocated) {
            return detail::answer_error(res, {404, fmt::format("Order {} has no allocated line of sku {}", c.order, c.sku)});
        }
        if (ec == errc::quantity_mismatch) {
            return detail::answer_error(
                res, {409, fmt::format("Order {} has sku {} allocated with another quantity", c.order, c.sku)});
        }
        detail::answer_error(res, detail::common_error(ec));
    }

    void change_batch_quantity(const httplib::Request& req, httplib::Response& res) {
        auto cmd = parse_change_batch_quantity(req.body);
        if (!cmd) return detail::answer_error(res, cmd.error());
        const auto& c = cmd.value();
        if (auto r = bus_->handle(c); !r) {
            if (r.error() == errc::unknown_batch) {
                return detail::answer_error(res, {404, fmt::format("Unknown batch {}", c.ref)});
            }
            return detail::answer_error(res, detail::common_error(r.error()));
        }
        detail::answer(res, 200, dump(json{{"batchref", c.ref.value}, {"qty", c.qty.value}}));
    }

    void allocations(const httplib::Request& req, httplib::Response& res) {
        const std::string id = req.matches[1];
        if (!is_valid_identifier(id)) {
            return detail::answer_error(res, {400, "orderid must be 1 to 255 bytes of UTF-8 without control characters"});
        }
        auto rows = view_->get(order_id{id});
        if (!rows) return detail::answer_error(res, detail::common_error(rows.error()));
        if (rows.value().empty()) return detail::answer_error(res, {404, fmt::format("No allocations for order {}", id)});
        detail::answer(res, 200, allocations_body(rows.value()));
    }

    void product(const httplib::Request& req, httplib::Response& res) {
        const std::string id = req.matches[1];
        if (!is_valid_identifier(id)) {
            return detail::answer_error(res, {400, "sku must be 1 to 255 bytes of UTF-8 without control characters"});
        }
        auto uow = store_->begin();
        auto found = uow.products().get(sku{id});
        if (!found) return detail::answer_error(res, detail::common_error(found.error()));
        if (found.value() == nullptr) return detail::answer_error(res, {404, fmt::format("Unknown sku {}", id)});
        detail::answer(res, 200, product_body(*found.value()));
    }

    /// The first SKU of an order that no product has (after the bus said one is unknown).
    auto unknown_sku(const commands::allocate_order& c) -> std::string {
        for (const auto& line : c.lines) {
            auto uow = store_->begin();
            auto found = uow.products().get(line.sku);
            if (found && found.value() == nullptr) return line.sku.value;
        }
        return c.lines.front().sku.value;
    }

    bus_type* bus_;
    Store* store_;
    View* view_;
    idempotency_store* keys_;
    std::vector<detail::route> routes_;
};

}  // namespace allocation::service

#endif  // ALLOCATION_SERVICE_HTTP_HPP
