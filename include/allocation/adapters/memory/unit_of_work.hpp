// allocation — the in-memory unit of work: real rollback, safe on several threads.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_MEMORY_UNIT_OF_WORK_HPP
#define ALLOCATION_ADAPTERS_MEMORY_UNIT_OF_WORK_HPP

#include <mutex>    // unique_lock
#include <utility>  // exchange, move
#include <vector>   // vector

#include <allocation/adapters/memory/repository.hpp>
#include <allocation/error.hpp>
#include <allocation/ports/unit_of_work.hpp>

namespace allocation::memory {

/// A unit of work over a memory::store. Products it gets are changed in place and held; commit()
/// keeps the changes and publishes the new products and batch references, rollback() (also on
/// destruction without commit) undoes them exactly. The unit of work can be used again after
/// either.
template <class Product = allocation::product>
class unit_of_work {
public:
    using product_type = Product;
    using event_type = typename Product::event_type;

    explicit unit_of_work(store<Product>& s) noexcept : store_(&s), products_(s) {}
    unit_of_work(const unit_of_work&) = delete;
    auto operator=(const unit_of_work&) -> unit_of_work& = delete;
    ~unit_of_work() { rollback(); }

    [[nodiscard]] auto products() noexcept -> repository<Product>& { return products_; }

    /// Keeps every change. Errors (nothing is kept then): errc::conflict when another unit of
    /// work committed the same new SKU first (a retry finds its product), errc::duplicate_batch
    /// when a new batch reference belongs to another SKU.
    auto commit() -> result<void> {
        // New products and batch references are published in the store's maps; a unit of work
        // that only changed existing products does not need the store's exclusive lock.
        std::vector<std::pair<typename Product::batch_ref_type, typename Product::sku_type>> refs;
        for (const auto& p : products_.local_.added) {
            for (const auto& b : p->batches()) refs.emplace_back(b.ref(), p->sku());
        }
        for (auto* s : products_.local_.held) {
            for (const auto& c : s->product.changes()) {
                if (c.what == Product::change::kind::batch_added) {
                    refs.emplace_back(s->product.batches()[c.batch].ref(), s->product.sku());
                }
            }
        }
        if (!refs.empty() || !products_.local_.added.empty()) {
            std::unique_lock lock(store_->mutex_);
            // Check everything first, so that a failed commit changes nothing.
            for (const auto& p : products_.local_.added) {
                if (store_->products_.contains(p->sku())) return fail(errc::conflict);
            }
            for (const auto& [ref, key] : refs) {
                if (const auto it = store_->batches_.find(ref); it != store_->batches_.end() && it->second != key) {
                    return fail(errc::duplicate_batch);
                }
            }
            for (auto& [ref, key] : refs) store_->batches_.insert_or_assign(std::move(ref), std::move(key));
            for (auto& p : products_.local_.added) {
                collect(*p);
                auto key = p->sku();
                store_->products_.emplace(std::move(key),
                                          std::make_unique<typename store<Product>::slot>(std::move(*p)));
            }
        }
        for (auto* s : products_.local_.held) collect(s->product);
        products_.release(true);
        return success();
    }

    /// Undoes every change not committed. Never fails.
    void rollback() noexcept { products_.release(false); }

    /// The events of what was committed so far, each returned once.
    [[nodiscard]] auto collect_new_events() -> std::vector<event_type> { return std::exchange(events_, {}); }

private:
    auto fail(errc e) -> result<void> {
        rollback();
        return e;
    }
    void collect(Product& p) {
        if (events_.empty()) {
            events_ = p.take_events();
        } else {
            for (auto& e : p.take_events()) events_.push_back(std::move(e));
        }
    }

    store<Product>* store_;
    repository<Product> products_;
    std::vector<event_type> events_;
};

static_assert(allocation::unit_of_work<unit_of_work<>>);
static_assert(allocation::unit_of_work_factory<store<>>);

}  // namespace allocation::memory

#endif  // ALLOCATION_ADAPTERS_MEMORY_UNIT_OF_WORK_HPP
