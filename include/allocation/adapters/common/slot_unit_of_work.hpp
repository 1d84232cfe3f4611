// allocation — the unit of work of the stores that keep their products in slots (in memory,
// and SQLite's cache): changes made in place on held products, kept or undone exactly.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_COMMON_SLOT_UNIT_OF_WORK_HPP
#define ALLOCATION_ADAPTERS_COMMON_SLOT_UNIT_OF_WORK_HPP

#include <cstddef>   // ptrdiff_t
#include <optional>  // optional
#include <string>    // string
#include <utility>   // exchange, move
#include <vector>    // vector

#include <allocation/adapters/common/inbox.hpp>
#include <allocation/adapters/common/slot_repository.hpp>
#include <allocation/error.hpp>
#include <allocation/try.hpp>

namespace allocation::detail {

/// A unit of work over a slot store. Products it gets are changed in place and held; commit()
/// hands what it has in hand to the store, which keeps it or fails changing nothing; rollback()
/// (also on destruction without commit) undoes the changes exactly. It can be used again after
/// either. Besides slot_repository's needs, the store gives it:
/// - `commit_changes(held_products&, staged_inbox&) -> result<void>`: makes the changes
///   durable and visible, or fails changing nothing; it may move added products into new slots
///   it holds for the unit of work (appended to `held`);
/// - in a store that releases early (releases_early), `commit_changes(held_products&,
///   staged_inbox&, sightings, let_go)` instead: it calls `let_go()` (which keeps the held
///   products' changes and lets them go) once their writes are queued, then returns when they
///   are durable or failed; and `settle(sightings) -> result<void>` (see settle());
/// - `drops_on_failure`: whether a failed commit leaves the held products stale (they are then
///   dropped from their slots and reloaded by the next get());
/// - optionally `find_processed(id)`: the store's inbox; the unit of work then models
///   records_processed_messages.
template <class Store>
class slot_unit_of_work {
public:
    using repository_type = slot_repository<Store>;
    using event_type = typename Store::product_type::event_type;

    explicit slot_unit_of_work(Store& s) noexcept : store_(&s), products_(s) {}
    slot_unit_of_work(const slot_unit_of_work&) = delete;
    auto operator=(const slot_unit_of_work&) -> slot_unit_of_work& = delete;
    ~slot_unit_of_work() { rollback(); }

    [[nodiscard]] auto products() noexcept -> repository_type& { return products_; }

    /// Keeps every change (see the store for its errors; nothing is kept then).
    auto commit() -> result<void> {
        auto& local = products_.in_hand();
        if constexpr (releases_early<Store>) {
            // The store lets the held products go (let_go) once their writes are queued, then
            // waits for them to be durable; a failure after that is the store's to repair.
            const auto before = events_.size();
            auto r = store_->commit_changes(local, inbox_, products_.sightings(), [&] {
                for (auto* s : local.held) collect(*s->product);
                products_.release_held();
            });
            products_.sightings().clear();
            if (!r) {
                events_.erase(events_.begin() + static_cast<std::ptrdiff_t>(before), events_.end());
                inbox_.clear();
                products_.release(false, Store::drops_on_failure);
                return r;
            }
        } else if (auto r = store_->commit_changes(local, inbox_); !r) {
            inbox_.clear();
            products_.release(false, Store::drops_on_failure);
            return r;
        }
        for (auto* s : local.held) collect(*s->product);
        for (auto& p : local.added) collect(*p);
        inbox_.clear();
        products_.release(true, false);
        return success();
    }

    /// In a store that releases early (releases_early): waits until the commits that the
    /// products this unit of work saw since its last commit rest on are durable. Errors:
    /// errc::conflict when one of them failed: an answer given from those products (a refusal,
    /// which commits nothing) may be wrong, and trying the command again reloads them. The
    /// message bus calls it after each handler.
    auto settle() -> result<void>
        requires releases_early<Store>
    {
        auto r = store_->settle(products_.sightings());
        products_.sightings().clear();
        return r;
    }

    /// Undoes every change not committed. Never fails.
    void rollback() noexcept {
        inbox_.clear();
        products_.release(false, false);
    }

    /// The events of what was committed so far, each returned once.
    [[nodiscard]] auto collect_new_events() -> std::vector<event_type> { return std::exchange(events_, {}); }

    /// The stored result of a message id processed before (also one recorded by this unit of
    /// work and not committed yet); none when new.
    auto find_processed(const std::string& id) -> result<std::optional<std::string>>
        requires requires(Store& s, const std::string& m) { s.find_processed(m); }
    {
        if (auto staged = inbox_.find(id)) return staged;
        return store_->find_processed(id);
    }
    /// Records a message id's result, kept by the next commit.
    auto record_processed(const std::string& id, std::string text) -> result<void>
        requires requires(Store& s, const std::string& m) { s.find_processed(m); }
    {
        inbox_.record(id, std::move(text));
        return success();
    }

private:
    void collect(typename Store::product_type& p) {
        if (events_.empty()) {
            events_ = p.take_events();
        } else {
            for (auto& e : p.take_events()) events_.push_back(std::move(e));
        }
    }

    Store* store_;
    repository_type products_;
    std::vector<event_type> events_;
    staged_inbox inbox_;
};

}  // namespace allocation::detail

#endif  // ALLOCATION_ADAPTERS_COMMON_SLOT_UNIT_OF_WORK_HPP
