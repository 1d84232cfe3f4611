// allocation — SQLite adapter: the repository, products of the store's cache each held by one
// unit of work at a time (the slot repository every slot store shares), checked by version
// against the database and reloaded only when another process changed them.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_SQLITE_REPOSITORY_HPP
#define ALLOCATION_ADAPTERS_SQLITE_REPOSITORY_HPP

#include <chrono>         // milliseconds
#include <cstdint>        // uint64_t
#include <memory>         // unique_ptr
#include <mutex>          // unique_lock, try_to_lock
#include <optional>       // optional
#include <utility>        // move
#include <vector>         // vector

#include <allocation/adapters/common/slot_repository.hpp>
#include <allocation/adapters/sqlite/codec.hpp>
#include <allocation/error.hpp>
#include <allocation/fwd.hpp>
#include <allocation/try.hpp>

namespace allocation::sqlite {

namespace detail {

/// The products an SQLite store caches, in slots, and the SKUs owning batch references: the
/// hooks its repository calls (see slot_repository), served from the cache and checked against
/// the database. The store (`Store`, a friend) gives `read(f)` (a read on its reader session),
/// `maker()` (its product factory), `lock_timeout()` and `pending(slot)` (whether a commit
/// queued with the product is not decided yet). A product is never reloaded but when
/// its stored version differs: its thousands of allocations stay in memory between commands.
/// Thread-safe.
/// @tparam Store the store.
/// @tparam Product a basic_product.
template <class Store, class Product>
class product_cache {
    using sku_type = typename Product::sku_type;
    using batch_ref_type = typename Product::batch_ref_type;
    // Held by one unit of work at a time. Its product is none when not loaded, or dropped after
    // a failed commit.
    using slot = allocation::detail::slot_of_t<Product>;

public:
    /// Drops every cached product that no unit of work holds and no queued commit changes: the
    /// next get() of each reloads it.
    void clear_cache() {
        map_.exclusive([this](auto& slots, auto&) {
            for (auto& [key, s] : slots) {
                std::unique_lock held(*s, std::try_to_lock);
                if (held.owns_lock() && !store().pending(*s)) s->product.reset();
            }
        });
    }

protected:
    product_cache() = default;

    // -- what slot_repository needs ---------------------------------------------------------
    auto contains(const sku_type& key) -> result<bool> {
        ALLOCATION_TRY(version, stored_version(key));
        return version.has_value();
    }
    auto slot_of(const sku_type& key) -> result<slot*> {
        if (auto* s = map_.find(key)) return s;
        ALLOCATION_TRY(version, stored_version(key));
        if (!version) return static_cast<slot*>(nullptr);
        return map_.find_or_make(key);
    }
    // Checks the cached product's version in the database (one indexed read) and reloads it only
    // when another process changed it, or when a failed commit made it stale. A product with
    // commits still queued is ahead of the database: it is taken as it is (its queued commits
    // and the next one check the version chain when they are written).
    auto refresh(slot& s, const sku_type& key) -> result<bool> {
        const auto generation = s.generation.load();
        const bool current = s.product && s.loaded_generation == generation;
        if (current && store().pending(s)) return true;
        ALLOCATION_TRY(version, stored_version(key));
        if (!version) return false;
        if (!current || s.product->version() != *version) {
            ALLOCATION_TRY(loaded, store().read([&](session& r) { return load<Product>(r, key, store().maker()); }));
            if (!loaded) return false;
            s.product = std::move(loaded);
        }
        s.loaded_generation = generation;
        return true;
    }
    auto owner_of(const batch_ref_type& ref) -> result<std::optional<sku_type>> {
        if (auto known = map_.owner(ref)) return known;
        ALLOCATION_TRY(key, store().read([&](session& s) {
                           return query_one(s.batch_owner, id_column(ref),
                                            [](const statement& st) { return make_id<sku_type>(st.text(0)); });
                       }));
        if (key) map_.set_owner(ref, *key);
        return key;
    }

    // Caches the products a commit added, in slots the unit of work holds (appended to
    // `local.held`); one whose slot another unit of work holds is left in `local.added`.
    void adopt(allocation::detail::held_products<Product>& local) { allocation::detail::adopt_added(map_, local); }

private:
    auto store() noexcept -> Store& { return static_cast<Store&>(*this); }

    // The stored version of a product, none when unknown.
    auto stored_version(const sku_type& key) -> result<std::optional<std::uint64_t>> {
        return store().read([&](session& s) {
            return query_one(s.product_version, id_column(key),
                             [](const statement& st) { return static_cast<std::uint64_t>(st.int64(0)); });
        });
    }

    allocation::detail::slot_map<Product> map_;
};

}  // namespace detail

}  // namespace allocation::sqlite

#endif  // ALLOCATION_ADAPTERS_SQLITE_REPOSITORY_HPP
