// allocation example — your own storage adapter: a store on std::map written against the ports,
// proven by the library's conformance kit (this program is a doctest test that runs it).
// SPDX-License-Identifier: MIT
//
// A store is three small classes the library only knows through its concepts:
// - a repository (ports/repository.hpp): add(), get(sku), get_by_batch_ref(ref), seen();
// - a unit of work (ports/unit_of_work.hpp): products(), commit(), rollback(), collect_new_events();
// - the store itself (unit_of_work_factory): begin(), and optionally the reads of
//   ports/product_reader.hpp (read_product, read_batch, read_allocations).
// This one keeps committed products in a std::map under one mutex. A unit of work works on
// copies and writes them back at commit after checking that no other writer changed them
// since they were read (optimistic concurrency, by the product's version).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cstdint>   // uint64_t
#include <map>       // map
#include <memory>    // unique_ptr, make_unique
#include <mutex>     // mutex, lock_guard
#include <optional>  // optional
#include <utility>   // exchange, move
#include <vector>    // vector

#include <allocation/allocation.hpp>
#include <allocation/ports/product_reader.hpp>
#include <allocation/testing/conformance.hpp>

namespace erp {

using namespace allocation;

class map_store {
public:
    class unit_of_work;

    // What a unit of work reads and changes: copies of the committed products.
    class repository {
    public:
        using product_type = allocation::product;

        explicit repository(map_store& store) : store_(&store) {}

        // A new product, written at commit; a SKU known here or in the store is refused.
        auto add(product p) -> result<void> {
            if (find_local(p.sku()) != nullptr) return errc::duplicate_product;
            const std::lock_guard lock(store_->mutex_);
            if (store_->products_.contains(p.sku())) return errc::duplicate_product;
            copies_.push_back({std::make_unique<product>(std::move(p)), std::nullopt});
            return success();
        }

        // A copy of the committed product, remembered with the version it had.
        auto get(const sku& key) -> result<product*> {
            if (auto* p = find_local(key)) return p;
            const std::lock_guard lock(store_->mutex_);
            const auto it = store_->products_.find(key);
            if (it == store_->products_.end()) return static_cast<product*>(nullptr);
            auto& c = copies_.emplace_back(copy{std::make_unique<product>(it->second), it->second.version()});
            c.item->checkpoint();  // track the changes made from here
            return c.item.get();
        }

        auto get_by_batch_ref(const batch_ref& ref) -> result<product*> {
            for (const auto& c : copies_) {
                if (c.item->find_batch(ref) != nullptr) return c.item.get();
            }
            std::optional<sku> owner;
            {
                const std::lock_guard lock(store_->mutex_);
                if (const auto it = store_->owners_.find(ref); it != store_->owners_.end()) owner = it->second;
            }
            if (!owner) return static_cast<product*>(nullptr);
            return get(*owner);
        }

        // Every product handed out, so that the unit of work collects their events.
        [[nodiscard]] auto seen() const -> std::vector<product*> {
            std::vector<product*> out;
            for (const auto& c : copies_) out.push_back(c.item.get());
            return out;
        }

    private:
        friend class unit_of_work;
        struct copy {
            std::unique_ptr<allocation::product> item;
            std::optional<std::uint64_t> read_version;  // none: added by this unit of work
        };
        auto find_local(const sku& key) const -> product* {
            for (const auto& c : copies_) {
                if (c.item->sku() == key) return c.item.get();
            }
            return nullptr;
        }
        map_store* store_;
        std::vector<copy> copies_;
    };

    class unit_of_work {
    public:
        explicit unit_of_work(map_store& store) : store_(&store), products_(store) {}

        [[nodiscard]] auto products() -> repository& { return products_; }

        // All or nothing: every copy is checked first, then every copy is written.
        auto commit() -> result<void> {
            const std::lock_guard lock(store_->mutex_);
            for (const auto& c : products_.copies_) {
                const auto it = store_->products_.find(c.item->sku());
                const bool known = it != store_->products_.end();
                // A new SKU another writer created first, or a product another writer changed
                // since we read it (also one we only read): a conflict the bus retries.
                if (c.read_version ? !known || it->second.version() != *c.read_version : known) {
                    products_.copies_.clear();
                    return errc::conflict;
                }
            }
            for (const auto& c : products_.copies_) {
                for (const auto& b : c.item->batches()) {
                    if (const auto it = store_->owners_.find(b.ref()); it != store_->owners_.end() &&
                                                                       !(it->second == c.item->sku())) {
                        products_.copies_.clear();
                        return errc::duplicate_batch;
                    }
                }
            }
            for (auto& c : products_.copies_) {
                for (const auto& b : c.item->batches()) store_->owners_.insert_or_assign(b.ref(), c.item->sku());
                for (auto& e : c.item->take_events()) events_.push_back(std::move(e));
                c.item->accept();
                store_->products_.insert_or_assign(c.item->sku(), std::move(*c.item));
            }
            products_.copies_.clear();
            return success();
        }

        // Forgets the copies: the next get() reads the committed product again.
        void rollback() noexcept { products_.copies_.clear(); }

        [[nodiscard]] auto collect_new_events() -> std::vector<events::event> { return std::exchange(events_, {}); }

    private:
        map_store* store_;
        repository products_;
        std::vector<events::event> events_;
    };

    [[nodiscard]] auto begin() -> unit_of_work { return unit_of_work(*this); }

    // The reads of ports/product_reader.hpp: committed state, under the map's mutex only.
    auto read_product(const sku& key) -> result<std::optional<product_state>> {
        const std::lock_guard lock(mutex_);
        const auto it = products_.find(key);
        if (it == products_.end()) return std::optional<product_state>{};
        return std::optional<product_state>(state_of(it->second));
    }
    auto read_batch(const batch_ref& ref) -> result<std::optional<batch_state>> {
        const std::lock_guard lock(mutex_);
        const auto owner = owners_.find(ref);
        if (owner == owners_.end()) return std::optional<batch_state>{};
        const auto* b = products_.at(owner->second).find_batch(ref);
        return std::optional<batch_state>(batch_state{b->ref(), b->sku(), b->purchased(), b->allocated(), b->eta(),
                                                      b->expires()});
    }
    auto read_allocations(const order_id& order) -> result<std::vector<line_allocation>> {
        const std::lock_guard lock(mutex_);
        std::vector<line_allocation> out;
        for (const auto& [key, p] : products_) {
            if (const auto* line = p.find_line(order)) {
                for (const auto& part : line->parts) out.push_back({key, part.qty, p.batches()[part.batch].ref()});
            }
        }
        return out;
    }

private:
    std::mutex mutex_;
    std::map<sku, product> products_;
    std::map<batch_ref, sku> owners_;
};

static_assert(allocation::repository<map_store::repository>);
static_assert(allocation::unit_of_work<map_store::unit_of_work>);
static_assert(allocation::unit_of_work_factory<map_store>);
static_assert(allocation::product_reader<map_store>);

// What the kit needs: fresh stores.
struct map_store_harness {
    using store_type = map_store;
    auto make() -> std::unique_ptr<map_store> { return std::make_unique<map_store>(); }
};

}  // namespace erp

TEST_CASE_TEMPLATE_INVOKE(allocation_repository_conformance, erp::map_store_harness);
TEST_CASE_TEMPLATE_INVOKE(allocation_unit_of_work_conformance, erp::map_store_harness);
TEST_CASE_TEMPLATE_INVOKE(allocation_idempotency_conformance, erp::map_store_harness);
TEST_CASE_TEMPLATE_INVOKE(allocation_concurrency_conformance, erp::map_store_harness);
TEST_CASE_TEMPLATE_INVOKE(allocation_reader_conformance, erp::map_store_harness);
TEST_CASE_TEMPLATE_INVOKE(allocation_holds_conformance, erp::map_store_harness);
TEST_CASE_TEMPLATE_INVOKE(allocation_backorders_conformance, erp::map_store_harness);
