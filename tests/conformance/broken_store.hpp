// allocation tests — deliberately broken stores for the conformance kit's own tests: a store of
// copies on std::map (optimistic versions) with one defect chosen at compile time.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_TESTS_CONFORMANCE_BROKEN_STORE_HPP
#define ALLOCATION_TESTS_CONFORMANCE_BROKEN_STORE_HPP

#include <cstdint>   // uint64_t
#include <map>       // map
#include <memory>    // unique_ptr, make_unique
#include <mutex>     // mutex, lock_guard
#include <optional>  // optional
#include <utility>   // exchange, move
#include <vector>    // vector

#include <allocation/domain/product.hpp>
#include <allocation/error.hpp>
#include <allocation/ports/unit_of_work.hpp>

namespace allocation::testing::broken {

/// What a store gets wrong.
enum class defect {
    none,                    ///< nothing: the store keeps every promise
    no_version_check,        ///< a commit overwrites a product another writer changed meanwhile
    batch_not_indexed,       ///< a batch added to an existing product is not found by reference
    both_creators_commit,    ///< two units of work creating one new SKU both commit
    events_not_collected,    ///< collect_new_events() gives nothing
    rollback_not_restoring,  ///< rollback() keeps the changes, which the next commit writes
};

/// Products in a std::map; a unit of work changes copies and writes them back at commit,
/// checking each product's version (unless the defect says otherwise).
template <defect D>
class store {
public:
    using product_type = allocation::product;

    class unit_of_work;

    class repository {
    public:
        using product_type = allocation::product;
        explicit repository(store& s) noexcept : store_(&s) {}

        auto add(product_type p) -> result<void> {
            if (local(p.sku()) != nullptr) return errc::duplicate_product;
            {
                const std::lock_guard lock(store_->mutex_);
                if (store_->products_.contains(p.sku())) return errc::duplicate_product;
            }
            entries_.push_back({std::make_unique<product_type>(std::move(p)), true, 0});
            return success();
        }
        auto get(const sku& key) -> result<product_type*> {
            if (auto* p = local(key)) return p;
            const std::lock_guard lock(store_->mutex_);
            const auto it = store_->products_.find(key);
            if (it == store_->products_.end()) return static_cast<product_type*>(nullptr);
            auto& e = entries_.emplace_back(entry{std::make_unique<product_type>(it->second), false, it->second.version()});
            e.product->checkpoint();
            return e.product.get();
        }
        auto get_by_batch_ref(const batch_ref& ref) -> result<product_type*> {
            for (const auto& e : entries_) {
                if (e.product->find_batch(ref) != nullptr) return e.product.get();
            }
            std::optional<sku> key;
            {
                const std::lock_guard lock(store_->mutex_);
                if (const auto it = store_->refs_.find(ref); it != store_->refs_.end()) key = it->second;
            }
            if (!key) return static_cast<product_type*>(nullptr);
            return get(*key);
        }
        [[nodiscard]] auto seen() const -> std::vector<product_type*> {
            std::vector<product_type*> out;
            for (const auto& e : entries_) out.push_back(e.product.get());
            return out;
        }

    private:
        friend class unit_of_work;
        struct entry {
            std::unique_ptr<product_type> product;
            bool added;
            std::uint64_t loaded;
        };
        auto local(const sku& key) const -> product_type* {
            for (const auto& e : entries_) {
                if (e.product->sku() == key) return e.product.get();
            }
            return nullptr;
        }
        store* store_;
        std::vector<entry> entries_;
    };

    class unit_of_work {
    public:
        explicit unit_of_work(store& s) noexcept : store_(&s), products_(s) {}
        [[nodiscard]] auto products() noexcept -> repository& { return products_; }

        auto commit() -> result<void> {
            const std::lock_guard lock(store_->mutex_);
            for (const auto& e : products_.entries_) {
                const auto it = store_->products_.find(e.product->sku());
                const bool stale = e.added ? it != store_->products_.end() && D != defect::both_creators_commit
                                           : it->second.version() != e.loaded && D != defect::no_version_check;
                if (stale) {
                    products_.entries_.clear();
                    return errc::conflict;
                }
            }
            for (auto& e : products_.entries_) {
                auto& p = *e.product;
                for (const auto& b : p.batches()) {
                    const bool is_new = e.added || !store_->refs_.contains(b.ref());
                    if (is_new && (e.added || D != defect::batch_not_indexed)) store_->refs_.insert_or_assign(b.ref(), p.sku());
                }
                auto taken = p.take_events();
                if (D != defect::events_not_collected) {
                    for (auto& ev : taken) events_.push_back(std::move(ev));
                }
                p.accept();
                store_->products_.insert_or_assign(p.sku(), p);
            }
            products_.entries_.clear();
            return success();
        }
        void rollback() noexcept {
            if (D != defect::rollback_not_restoring) products_.entries_.clear();
        }
        [[nodiscard]] auto collect_new_events() -> std::vector<events::event> { return std::exchange(events_, {}); }

    private:
        store* store_;
        repository products_;
        std::vector<events::event> events_;
    };

    [[nodiscard]] auto begin() -> unit_of_work { return unit_of_work(*this); }

private:
    std::mutex mutex_;
    std::map<sku, product_type> products_;
    std::map<batch_ref, sku> refs_;
};

static_assert(unit_of_work_factory<store<defect::none>>);

/// Fresh broken stores for the kit.
template <defect D>
struct harness {
    using store_type = store<D>;
    auto make() -> std::unique_ptr<store_type> { return std::make_unique<store_type>(); }
};

}  // namespace allocation::testing::broken

#endif  // ALLOCATION_TESTS_CONFORMANCE_BROKEN_STORE_HPP
