// allocation — tests of allocation/detail/product_slot.hpp and adapters/common/slot_repository.hpp (held_products): a store's
// product held by one unit of work at a time, and what a unit of work has in hand.
// SPDX-License-Identifier: MIT
#include <allocation/detail/product_slot.hpp>
#include <allocation/adapters/common/slot_repository.hpp>
#include <allocation/domain/product.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

using allocation::batch_ref;
using allocation::product;
using allocation::quantity;
using allocation::sku;
using allocation::detail::held_products;
using allocation::detail::product_slot;

TEST_SUITE("detail") {
    TEST_CASE("a product slot is held by one owner at a time") {
        product_slot<product> s(sku{"LAMP"});
        REQUIRE(s.try_lock());
        CHECK_FALSE(s.try_lock());
        CHECK_FALSE(s.try_lock_for(std::chrono::milliseconds{1}));
        SUBCASE("unlock lets the next owner hold it") {
            s.unlock();
            CHECK(s.try_lock_for(std::chrono::milliseconds{1}));
            s.unlock();
        }
        SUBCASE("a waiter holds it once it is let go") {
            bool got = false;
            std::thread waiter([&] {
                s.lock();
                got = true;
                s.unlock();
            });
            s.unlock();
            waiter.join();
            CHECK(got);
        }
        SUBCASE("std::unique_lock works on it") {
            s.unlock();
            {
                const std::unique_lock held(s, std::try_to_lock);
                CHECK(held.owns_lock());
                CHECK_FALSE(s.try_lock());
            }
            CHECK(s.try_lock());
            s.unlock();
        }
        CHECK(s.product.sku() == sku{"LAMP"});
    }

    TEST_CASE("held products are found by SKU and by batch among held slots and added products") {
        product_slot<std::optional<product>> loaded;
        loaded.product.emplace(sku{"LAMP"});
        held_products<product> in_hand;
        CHECK(in_hand.empty());
        in_hand.held.push_back(&loaded);
        in_hand.added.push_back(std::make_unique<product>(sku{"DESK"}));
        CHECK(in_hand.find(sku{"LAMP"}) == &*loaded.product);
        CHECK(in_hand.find(sku{"DESK"}) == in_hand.added.front().get());
        CHECK(in_hand.find(sku{"NOPE"}) == nullptr);
        REQUIRE(loaded.product->add_batch(batch_ref{"L1"}, quantity{10}));
        REQUIRE(in_hand.added.front()->add_batch(batch_ref{"D1"}, quantity{4}));
        CHECK(in_hand.owner_of(batch_ref{"L1"}) == &*loaded.product);
        CHECK(in_hand.owner_of(batch_ref{"D1"}) == in_hand.added.front().get());
        CHECK(in_hand.owner_of(batch_ref{"NOPE"}) == nullptr);
        REQUIRE(in_hand.all().size() == 2);
        CHECK(in_hand.all()[0] == &*loaded.product);
        CHECK(in_hand.all()[1] == in_hand.added.front().get());
        in_hand.clear();
        CHECK(in_hand.empty());
        CHECK(in_hand.find(sku{"LAMP"}) == nullptr);
    }
}
