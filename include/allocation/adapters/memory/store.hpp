// allocation — the in-memory store: products shared by threads, each product held by one unit
// of work at a time, and a read model of what was committed.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_MEMORY_STORE_HPP
#define ALLOCATION_ADAPTERS_MEMORY_STORE_HPP

#include <chrono>         // milliseconds
#include <cstddef>        // size_t
#include <deque>          // deque
#include <memory>         // unique_ptr, make_unique
#include <mutex>          // unique_lock, adopt_lock
#include <optional>       // optional
#include <set>            // set
#include <shared_mutex>   // shared_mutex, shared_lock
#include <string>         // string
#include <unordered_map>  // unordered_map
#include <utility>        // move, forward, as_const, pair
#include <vector>         // vector

#include <allocation/adapters/common/inbox.hpp>
#include <allocation/adapters/common/store_base.hpp>
#include <allocation/adapters/common/slot_repository.hpp>
#include <allocation/adapters/common/slot_unit_of_work.hpp>
#include <allocation/adapters/memory/reader.hpp>
#include <allocation/adapters/memory/repository.hpp>
#include <allocation/domain/product.hpp>
#include <allocation/error.hpp>
#include <allocation/ports/inbox.hpp>
#include <allocation/ports/product_reader.hpp>
#include <allocation/ports/unit_of_work.hpp>
#include <allocation/try.hpp>

namespace allocation::memory {

/// Products in memory, shared by every unit of work started from it, on any thread.
/// A unit of work holds each product it gets exclusively until it commits or rolls back; a
/// second one waits up to `lock_timeout` for it, then fails with errc::conflict (the message bus
/// retries). Units of work that need several products must get them in SKU order, as the
/// library's handlers do, so that they cannot wait for each other. Its reads (product_reader)
/// come from a read model its commits keep, and never wait for a unit of work. The products the
/// message bus creates in it are made by its product factory (makes_products). Its units of
/// work have an inbox (records_processed_messages) of the last `inbox_capacity` message ids
/// committed; a commit that records an id another one recorded first fails with errc::conflict.
/// @tparam Product a basic_product.
template <class Product>
class basic_store : public allocation::detail::store_base<basic_store<Product>, Product>,
                    private detail::product_slots<Product> {
    using slots = detail::product_slots<Product>;
    using slot = typename slots::slot;

public:
    using unit_of_work_type = allocation::detail::slot_unit_of_work<basic_store>;

    explicit basic_store(std::chrono::milliseconds lock_timeout = std::chrono::seconds{1},
                         std::size_t inbox_capacity = 100'000)
        : slots(lock_timeout), inbox_capacity_(inbox_capacity) {}
    basic_store(const basic_store&) = delete;
    auto operator=(const basic_store&) -> basic_store& = delete;

    /// Starts a unit of work.
    [[nodiscard]] auto begin() -> unit_of_work_type { return unit_of_work_type(*this); }

    /// Calls `f(const Product&)` on a committed product, holding it like a unit of work would
    /// (waiting up to the lock timeout); returns false when the SKU is unknown or the product
    /// stayed held. Prefer read_product(), which never waits.
    template <class F>
    auto read(const typename Product::sku_type& key, F&& f) -> bool {
        slot* s = this->find(key);
        if (s == nullptr) return false;
        if (!s->try_lock_for(this->lock_timeout())) return false;
        const std::unique_lock held(*s, std::adopt_lock);
        std::forward<F>(f)(std::as_const(*s->product));
        return true;
    }

    /// The stored result of a message id processed before; none when new or forgotten (the
    /// inbox of its units of work keeps the last inbox_capacity ids).
    auto find_processed(const std::string& id) -> result<std::optional<std::string>> {
        const std::lock_guard lock(inbox_mutex_);
        const auto it = processed_.find(id);
        if (it == processed_.end()) return std::optional<std::string>{};
        return std::optional<std::string>(it->second);
    }

    using slots::size;

    /// The SKUs of the products that have holds, live or past their deadline
    /// (lists_holding_products), for a sweep. Never waits for a unit of work.
    auto skus_with_holds() const -> result<std::vector<typename Product::sku_type>> {
        const std::lock_guard lock(holding_mutex_);
        return std::vector<typename Product::sku_type>(holding_.begin(), holding_.end());
    }
    /// The SKUs of the products that have holds (lists_holding_products): every one of
    /// skus_with_holds(), whatever their deadlines.
    auto skus_with_holds_due(timestamp) const -> result<std::vector<typename Product::sku_type>> { return skus_with_holds(); }

private:
    friend class allocation::detail::store_base<basic_store, Product>;
    template <class>
    friend class allocation::detail::slot_repository;
    template <class>
    friend class allocation::detail::slot_unit_of_work;
    static constexpr bool drops_on_failure = false;  // the slots hold the only copy

    // The reads of committed state come from the read model.
    template <class F>
    auto reads(F&& f) {
        return std::forward<F>(f)(std::as_const(committed_));
    }

    // -- what slot_unit_of_work needs -------------------------------------------------------
    // Publishes the new products and batch references (see product_slots::publish, for its
    // errors; nothing is kept then), then the committed state in the read model and the inbox
    // records. Also errc::conflict when another unit of work recorded one of the message ids
    // first (nothing is kept then either).
    auto commit_changes(allocation::detail::held_products<Product>& local, allocation::detail::staged_inbox& inbox)
        -> result<void> {
        std::unique_lock<std::mutex> inbox_lock;  // held across the commit, so that ids are checked and kept at once
        if (!inbox.empty()) {
            inbox_lock = std::unique_lock(inbox_mutex_);
            for (const auto& [id, text] : inbox.entries()) {
                if (processed_.contains(id)) return errc::conflict;
            }
        }
        ALLOCATION_TRYV(this->publish(local));
        for (auto* s : local.held) {
            committed_.apply(*s->product);
            note_holds(*s->product);
        }
        for (const auto& [id, text] : inbox.entries()) {
            processed_.insert_or_assign(id, text);
            inbox_order_.push_back(id);
        }
        while (inbox_order_.size() > inbox_capacity_) {
            processed_.erase(inbox_order_.front());
            inbox_order_.pop_front();
        }
        return success();
    }

    // Keeps holding_ up to date for a product a commit keeps; one that never had a hold costs
    // a look at its changes.
    void note_holds(const Product& p) {
        using kind = typename Product::change::kind;
        bool touched = !p.holds().empty();
        for (std::size_t i = 0; !touched && i < p.changes().size(); ++i) {
            touched = p.changes()[i].what == kind::hold_removed;
        }
        if (!touched) return;
        const std::lock_guard lock(holding_mutex_);
        if (p.holds().empty()) {
            holding_.erase(p.sku());
        } else {
            holding_.insert(p.sku());
        }
    }

    basic_read_model<Product> committed_;
    std::size_t inbox_capacity_;
    std::mutex inbox_mutex_;                                  // guards the inbox
    std::unordered_map<std::string, std::string> processed_;  // message id -> stored result
    std::deque<std::string> inbox_order_;                     // the ids, oldest first
    mutable std::mutex holding_mutex_;                // guards holding_
    std::set<typename Product::sku_type> holding_;  // SKUs of the products with holds
};

/// The in-memory store of the default product.
using store = basic_store<allocation::product>;

/// The repository of a memory unit of work (see allocation::detail::slot_repository): get()
/// holds the product's slot until the unit of work ends.
template <class Product>
using basic_repository = allocation::detail::slot_repository<basic_store<Product>>;
using repository = basic_repository<allocation::product>;

static_assert(allocation::unit_of_work_factory<store>);
static_assert(allocation::repository<repository>);
static_assert(allocation::product_reader<store>);
static_assert(allocation::reads_holds<store>);
static_assert(allocation::lists_holding_products<store>);
static_assert(allocation::makes_products<store>);
static_assert(allocation::records_processed_messages<unit_of_work_t<store>>);

}  // namespace allocation::memory

#endif  // ALLOCATION_ADAPTERS_MEMORY_STORE_HPP
