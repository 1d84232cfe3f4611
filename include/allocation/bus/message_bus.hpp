// allocation — the message bus: each command to its one handler, each event to its observers.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_BUS_MESSAGE_BUS_HPP
#define ALLOCATION_BUS_MESSAGE_BUS_HPP

#include <algorithm>    // min
#include <chrono>       // microseconds
#include <concepts>     // same_as
#include <cstdint>      // int64_t
#include <random>       // minstd_rand, random_device, uniform_real_distribution
#include <cstddef>      // size_t
#include <deque>        // deque
#include <exception>    // exception
#include <functional>   // function
#include <memory>       // shared_ptr
#include <string_view>  // string_view
#include <thread>       // this_thread::sleep_for
#include <tuple>        // tuple, get
#include <type_traits>  // invoke_result_t
#include <utility>      // forward, move
#include <variant>      // variant, visit
#include <vector>       // vector

#include <boost/signals2/signal.hpp>
#include <fmt/format.h>

#include <allocation/bus/handlers.hpp>
#include <allocation/domain/commands.hpp>
#include <allocation/domain/events.hpp>
#include <allocation/error.hpp>
#include <allocation/ports/clock.hpp>
#include <allocation/ports/product_factory.hpp>
#include <allocation/ports/product_reader.hpp>
#include <allocation/ports/publisher.hpp>
#include <allocation/ports/unit_of_work.hpp>

namespace allocation {

/// How often a command that met errc::conflict is tried, and how long to wait in between (the
/// wait doubles each time).
struct retry_policy {
    int attempts = 8;
    std::chrono::microseconds backoff{200};       ///< the first wait
    std::chrono::microseconds max_backoff{20'000};  ///< no wait is longer

    /// The wait before try `attempt + 1` (attempt counts from 1): the backoff doubled per try up
    /// to max_backoff, scaled by a random factor in [0.5, 1.5) so that writers that met each
    /// other do not meet again in step.
    [[nodiscard]] auto wait_after(int attempt) const -> std::chrono::microseconds {
        thread_local std::minstd_rand random{std::random_device{}()};
        auto wait = backoff;
        for (int i = 1; i < attempt && wait < max_backoff; ++i) wait *= 2;
        wait = std::min(wait, max_backoff);
        const auto scale = 0.5 + std::uniform_real_distribution<double>{0.0, 1.0}(random);
        return std::chrono::microseconds{static_cast<std::int64_t>(static_cast<double>(wait.count()) * scale)};
    }
};

/// Where the bus reports what went wrong in observers and reallocations.
using logger = std::function<void(std::string_view)>;

namespace detail {

inline void log_to_stderr(std::string_view line) { fmt::print(stderr, "allocation: {}\n", line); }

// Runs every observer of an event even when some fail or throw; the result is the number of
// failures, each logged.
struct run_every_observer {
    using result_type = std::size_t;
    const logger* log = nullptr;
    std::string_view event_name;

    template <class It>
    auto operator()(It first, It last) const -> std::size_t {
        std::size_t failures = 0;
        for (; first != last; ++first) {
            try {
                const result<void> r = *first;
                if (!r) {
                    ++failures;
                    report(fmt::format("observer of {} failed: {}", event_name, r.error().message()));
                }
            } catch (const std::exception& e) {
                ++failures;
                report(fmt::format("observer of {} threw: {}", event_name, e.what()));
            } catch (...) {
                ++failures;
                report(fmt::format("observer of {} threw", event_name));
            }
        }
        return failures;
    }
    void report(std::string_view line) const {
        if (log != nullptr && *log) (*log)(line);
    }
};

// The bus's clock as the handlers take it.
struct clock_view {
    const std::function<timestamp()>* now_of;
    [[nodiscard]] auto now() const -> timestamp { return (*now_of)(); }
};

template <class Event>
using observer_signal = boost::signals2::signal<result<void>(const Event&), run_every_observer>;

template <class Variant>
struct signal_set;
template <class... Events>
struct signal_set<std::variant<Events...>> {
    explicit signal_set(const logger* log)
        : signals{observer_signal<Events>(run_every_observer{log, events::channel_v<Events>})...} {}
    std::tuple<observer_signal<Events>...> signals;
};

}  // namespace detail

/// The message bus. Commands go to exactly one handler (bus/handlers.hpp) in a unit of work of
/// the store; the result reaches the caller. The events the unit of work committed then go, in
/// order, to every observer connected for their type (Boost.Signals2); one observer failing or
/// throwing is logged and does not stop the others. An observer may send commands to the bus
/// (through sender()); the events those raise join the same queue, after the ones already in it.
/// Commands that meet errc::conflict are retried as the retry_policy says: that is the one retry
/// of the library, for commands sent by callers and by observers alike. bootstrap() connects the
/// observer that reallocates the lines of a shrunk batch.
///
/// handle() may be called from several threads at once when the store allows it (the in-memory
/// store does); connect observers and set the product factory before that.
/// @tparam Store a unit_of_work_factory.
template <unit_of_work_factory Store>
class basic_message_bus {
public:
    using store_type = Store;
    using uow_type = unit_of_work_t<Store>;
    using product_type = product_t<uow_type>;
    using traits_type = typename product_type::traits_type;
    using event_type = typename product_type::event_type;
    using sku_type = typename product_type::sku_type;
    using batch_ref_type = typename product_type::batch_ref_type;
    using strategy_type = typename product_type::strategy_type;
    using replenishment_type = basic_replenishment<traits_type>;
    /// Makes the product of a new SKU with the default replenishment rule.
    using product_factory = allocation::product_factory<product_type>;

    /// The bus as its observers see it: the same handle() of commands, at an address that moving
    /// the bus does not change. Valid as long as the bus.
    class sender_type {
    public:
        sender_type(const sender_type&) = delete;
        auto operator=(const sender_type&) -> sender_type& = delete;

        auto handle(const commands::basic_create_batch<traits_type>& cmd) -> result<void> {
            return run([&](uow_type& uow) {
                return handlers::create_batch(cmd, uow, [&](const sku_type& code) { return make(code); });
            });
        }
        auto handle(const commands::basic_allocate<traits_type>& cmd) -> result<batch_ref_type> {
            return run([&](uow_type& uow) { return handlers::allocate(cmd, uow, clock()); });
        }
        auto handle(const commands::basic_allocate_split<traits_type>& cmd)
            -> result<std::vector<basic_line_allocation<traits_type>>> {
            return run([&](uow_type& uow) { return handlers::allocate_split(cmd, uow, clock()); });
        }
        auto handle(const commands::basic_deallocate<traits_type>& cmd) -> result<batch_ref_type> {
            return run([&](uow_type& uow) { return handlers::deallocate(cmd, uow); });
        }
        auto handle(const commands::basic_change_batch_quantity<traits_type>& cmd) -> result<void> {
            return run([&](uow_type& uow) { return handlers::change_batch_quantity(cmd, uow, clock()); });
        }
        auto handle(const commands::basic_allocate_order<traits_type>& cmd)
            -> result<std::vector<basic_line_allocation<traits_type>>> {
            return run([&](uow_type& uow) { return handlers::allocate_order(cmd, uow, clock()); });
        }
        auto handle(const commands::basic_hold<traits_type>& cmd) -> result<basic_held_order<traits_type>> {
            std::vector<sku_type> held_elsewhere;  // where the order holds already, as committed
            if constexpr (reads_holds<Store, traits_type>) {
                if (!validate::identifier<traits_type>(cmd.order)) return errc::invalid_identifier;
                ALLOCATION_TRY(lines, store_->read_holds(cmd.order));
                for (auto& line : lines) held_elsewhere.push_back(std::move(line.sku));
            }
            return run([&](uow_type& uow) { return handlers::hold(cmd, uow, clock(), held_elsewhere); });
        }
        auto handle(const commands::basic_confirm_hold<traits_type>& cmd)
            -> result<std::vector<basic_line_allocation<traits_type>>> {
            return run([&](uow_type& uow) { return handlers::confirm_hold(cmd, uow, clock()); });
        }
        auto handle(const commands::basic_release_hold<traits_type>& cmd)
            -> result<std::vector<basic_line_allocation<traits_type>>> {
            return run([&](uow_type& uow) { return handlers::release_hold(cmd, uow, clock()); });
        }
        auto handle(const commands::basic_expire_holds<traits_type>& cmd) -> result<std::size_t> {
            if constexpr (lists_holding_products<Store>) {
                if (cmd.skus.empty()) {
                    // One unit of work per product, so that the sweep never holds many at once.
                    ALLOCATION_TRY(skus, store_->skus_with_holds_due(now()));
                    std::size_t swept = 0;
                    for (auto& s : skus) {
                        const commands::basic_expire_holds<traits_type> one{{std::move(s)}};
                        ALLOCATION_TRY(n, run([&](uow_type& uow) { return handlers::expire_holds(one, uow, clock()); }));
                        swept += n;
                    }
                    return swept;
                }
            }
            return run([&](uow_type& uow) { return handlers::expire_holds(cmd, uow, clock()); });
        }
        auto handle(const commands::basic_cancel_backorder<traits_type>& cmd) -> result<void> {
            return run([&](uow_type& uow) { return handlers::cancel_backorder(cmd, uow); });
        }

        /// The time the bus's clock says.
        [[nodiscard]] auto now() const -> timestamp { return now_(); }
        auto handle(const commands::basic_set_replenishment<traits_type>& cmd) -> result<void> {
            return run([&](uow_type& uow) { return handlers::set_replenishment(cmd, uow); });
        }
        auto handle(event_type e) -> std::size_t {
            std::deque<event_type> queue;
            queue.push_back(std::move(e));
            return drain(queue);
        }

        /// Runs `handler(uow)` in a unit of work of the store, tried again on errc::conflict as the
        /// retry policy says, then hands the events it committed to their observers.
        template <class F>
        auto run(F&& handler) -> std::invoke_result_t<F&, uow_type&> {
            for (int attempt = 1;; ++attempt) {
                std::vector<event_type> raised;
                auto r = attempt_once(handler, raised);
                if (!r && r.error() == errc::conflict && attempt < retry_.attempts) {
                    std::this_thread::sleep_for(retry_.wait_after(attempt));
                    continue;
                }
                if (!raised.empty()) {
                    if (draining_.owner == this) {
                        // Sent by an observer: the events join the queue being drained.
                        for (auto& e : raised) draining_.queue->push_back(std::move(e));
                    } else {
                        std::deque<event_type> queue(std::make_move_iterator(raised.begin()),
                                                     std::make_move_iterator(raised.end()));
                        drain(queue);
                    }
                }
                return r;
            }
        }

        [[nodiscard]] auto store() noexcept -> Store& { return *store_; }

    private:
        friend class basic_message_bus;

        [[nodiscard]] auto clock() const noexcept -> detail::clock_view { return {&now_}; }

        // The product of a new SKU: made by the store's product factory when it has one.
        auto make(const sku_type& code) const -> product_type {
            if constexpr (makes_products<Store>) {
                return store_->make_product(code, rule_);
            } else {
                return make_(code, rule_);
            }
        }

        sender_type(Store& store, retry_policy retry, logger log)
            : store_(&store), retry_(retry), log_(std::move(log)), signals_(&log_) {}

        // One try in its own unit of work, which is gone (its products released) before any
        // observer runs.
        template <class F>
        auto attempt_once(F& handler, std::vector<event_type>& raised) -> std::invoke_result_t<F&, uow_type&> {
            auto uow = store_->begin();
            auto r = handler(uow);
            if constexpr (requires { { uow.settle() } -> std::same_as<result<void>>; }) {
                // A store that lets products go before their commits are durable: an answer
                // resting on a commit that failed is tried again.
                if (auto settled = uow.settle(); !settled) {
                    if constexpr (requires { r.has_value(); }) r = decltype(r)(settled.error());
                }
            }
            raised = uow.collect_new_events();
            return r;
        }

        auto drain(std::deque<event_type>& queue) -> std::size_t {
            const auto outer = draining_;
            draining_ = {this, &queue};
            std::size_t failures = 0;
            while (!queue.empty()) {
                auto e = std::move(queue.front());
                queue.pop_front();
                std::visit([&](const auto& ev) {
                    using ev_type = std::remove_cvref_t<decltype(ev)>;
                    failures += std::get<detail::observer_signal<ev_type>>(signals_.signals)(ev);
                }, e);
            }
            draining_ = outer;
            return failures;
        }

        // The queue this thread is draining, and whose it is.
        struct draining {
            const sender_type* owner = nullptr;
            std::deque<event_type>* queue = nullptr;
        };
        static inline thread_local draining draining_{};

        Store* store_;
        retry_policy retry_;
        logger log_;  // the combiners point at it
        detail::signal_set<event_type> signals_;
        product_factory make_ = [](const sku_type& code, const replenishment_type& rule) {
            return product_type{code, rule};
        };
        replenishment_type rule_{};
        std::function<timestamp()> now_ = [] { return system_clock{}.now(); };
    };

    /// A bus over `store`, which must outlive it.
    explicit basic_message_bus(Store& store, retry_policy retry = {}, logger log = detail::log_to_stderr)
        : core_(new sender_type(store, retry, std::move(log))) {}

    /// The replenishment rule given to products the bus creates (CreateBatch of a new SKU).
    void set_default_replenishment(replenishment_type rule) { core_->rule_ = std::move(rule); }
    /// Every product the bus creates gets a copy of `strategy` (a FEFO strategy with its
    /// calendar, a strategy configured at run time). See set_product_factory().
    void set_strategy(strategy_type strategy) { set_product_factory(strategy_factory<product_type>(std::move(strategy))); }
    /// The products the bus creates are made by `make(sku, default_rule)`: a strategy chosen per
    /// SKU, a rule of the ERP's. A store that makes its products (makes_products, as the
    /// library's stores do) is given the factory, so that the products it reloads from storage
    /// get the same strategy; it is then the store's for every bus over it.
    void set_product_factory(product_factory make) {
        if constexpr (makes_products<Store>) {
            core_->store_->set_product_factory(std::move(make));
        } else {
            core_->make_ = std::move(make);
        }
    }

    /// The clock the bus asks for the time of holds (system_clock unless set): a manual_clock
    /// in tests. Set it before handling commands.
    template <allocation::tells_time Clock>
    void set_clock(Clock c) {
        core_->now_ = [c = std::move(c)] { return timestamp{c.now()}; };
    }
    /// The time the bus's clock says.
    [[nodiscard]] auto now() const -> timestamp { return core_->now(); }

    /// Adds a batch (creating the product of a new SKU). See handlers::create_batch.
    auto handle(const commands::basic_create_batch<traits_type>& cmd) -> result<void> { return core_->handle(cmd); }
    /// Allocates an order line; returns its batch. See handlers::allocate.
    auto handle(const commands::basic_allocate<traits_type>& cmd) -> result<batch_ref_type> {
        return core_->handle(cmd);
    }
    /// Allocates an order line, split over batches when no batch takes it whole; returns the
    /// parts. See handlers::allocate_split.
    auto handle(const commands::basic_allocate_split<traits_type>& cmd)
        -> result<std::vector<basic_line_allocation<traits_type>>> {
        return core_->handle(cmd);
    }
    /// Deallocates an order line; returns the batch it left. See handlers::deallocate.
    auto handle(const commands::basic_deallocate<traits_type>& cmd) -> result<batch_ref_type> {
        return core_->handle(cmd);
    }
    /// Changes a batch's quantity; the lines that no longer fit are deallocated (and reallocated
    /// by the observer bootstrap() connects). See handlers::change_batch_quantity.
    auto handle(const commands::basic_change_batch_quantity<traits_type>& cmd) -> result<void> {
        return core_->handle(cmd);
    }
    /// Allocates a whole order or nothing. See handlers::allocate_order.
    auto handle(const commands::basic_allocate_order<traits_type>& cmd)
        -> result<std::vector<basic_line_allocation<traits_type>>> {
        return core_->handle(cmd);
    }
    /// Sets a product's replenishment rule. See handlers::set_replenishment.
    auto handle(const commands::basic_set_replenishment<traits_type>& cmd) -> result<void> {
        return core_->handle(cmd);
    }
    /// Holds every line of an order until the clock's time plus its ttl, or none. See
    /// handlers::hold.
    auto handle(const commands::basic_hold<traits_type>& cmd) -> result<basic_held_order<traits_type>> {
        return core_->handle(cmd);
    }
    /// Confirms an order's hold (all or part); returns the allocations. See handlers::confirm_hold.
    auto handle(const commands::basic_confirm_hold<traits_type>& cmd)
        -> result<std::vector<basic_line_allocation<traits_type>>> {
        return core_->handle(cmd);
    }
    /// Releases an order's hold; returns what was released. See handlers::release_hold.
    auto handle(const commands::basic_release_hold<traits_type>& cmd)
        -> result<std::vector<basic_line_allocation<traits_type>>> {
        return core_->handle(cmd);
    }
    /// Sweeps the holds past their deadline (HoldExpired for each); returns how many. With no
    /// SKUs, sweeps every product of a store that lists the products with holds
    /// (lists_holding_products), one unit of work each. See handlers::expire_holds.
    auto handle(const commands::basic_expire_holds<traits_type>& cmd) -> result<std::size_t> {
        return core_->handle(cmd);
    }
    /// Cancels an order line's backorder. See handlers::cancel_backorder.
    auto handle(const commands::basic_cancel_backorder<traits_type>& cmd) -> result<void> {
        return core_->handle(cmd);
    }

    /// Hands an event to its observers (and everything that follows from it), as if a command
    /// had raised it. Returns the number of observers that failed.
    auto handle(event_type e) -> std::size_t { return core_->handle(std::move(e)); }

    /// Runs `handler(uow)` in a unit of work of the store with the bus's retries, then hands the
    /// events it committed to their observers; returns what the handler returned.
    template <class F>
    auto run(F&& handler) -> std::invoke_result_t<F&, uow_type&> {
        return core_->run(std::forward<F>(handler));
    }

    /// Connects an observer of `Event`: a callable taking `const Event&` and returning
    /// result<void> (or void). Observers run on the thread that handled the command.
    template <class Event, class F>
    auto on(F&& observer) -> boost::signals2::connection {
        auto& sig = std::get<detail::observer_signal<Event>>(core_->signals_.signals);
        if constexpr (std::is_void_v<std::invoke_result_t<F&, const Event&>>) {
            return sig.connect([f = std::forward<F>(observer)](const Event& e) mutable -> result<void> {
                f(e);
                return success();
            });
        } else {
            return sig.connect(std::forward<F>(observer));
        }
    }

    /// The bus for observers that send commands (see sender_type).
    [[nodiscard]] auto sender() noexcept -> sender_type& { return *core_; }

    /// The store commands run on.
    [[nodiscard]] auto store() noexcept -> Store& { return *core_->store_; }

private:
    std::unique_ptr<sender_type> core_;
};

}  // namespace allocation

#endif  // ALLOCATION_BUS_MESSAGE_BUS_HPP
