// allocation — tests of allocation/detail/flat_map.hpp: the open-addressing map behind a
// product's line table, checked against std::unordered_map.
// SPDX-License-Identifier: MIT
#include <allocation/detail/flat_map.hpp>
#include <allocation/detail/hash.hpp>
#include <allocation/domain/types.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

using allocation::detail::flat_map;

namespace {
// A hash that puts every key in one of four buckets: long probe runs, shifts and wrap-arounds.
struct clumping_hash {
    auto operator()(std::uint64_t k) const noexcept -> std::size_t { return static_cast<std::size_t>(k % 4) << 62; }
};
// Both maps hold the same pairs, and every key of the model is found with its value.
template <class Map, class Model>
void check_same(const Map& map, const Model& model) {
    REQUIRE(map.size() == model.size());
    CHECK(map.empty() == model.empty());
    std::map<typename Model::key_type, typename Model::mapped_type> seen;
    for (const auto& [key, value] : map) seen.emplace(key, value);
    CHECK(seen.size() == model.size());
    for (const auto& [key, value] : model) {
        const auto it = map.find(key);
        REQUIRE(it != map.end());
        CHECK(it->second == value);
        CHECK(seen.at(key) == value);
    }
}
// Random inserts, lookups and erasures of keys drawn from `key_space` values, against the model.
template <class Map>
void random_walk(Map& map, std::uint64_t seed, std::uint64_t key_space, int steps) {
    std::unordered_map<std::uint64_t, int> model;
    std::mt19937_64 rng{seed};
    for (int step = 0; step < steps; ++step) {
        const auto key = rng() % key_space;
        switch (rng() % 4) {
            case 0:
            case 1: {
                const auto [it, inserted] = map.try_emplace(key, step);
                const auto [mit, minserted] = model.try_emplace(key, step);
                REQUIRE(inserted == minserted);
                REQUIRE(it->second == mit->second);
                break;
            }
            case 2: REQUIRE(map.erase(key) == model.erase(key)); break;
            case 3: {
                const auto it = map.find(key);
                REQUIRE((it != map.end()) == model.contains(key));
                if (it != map.end()) {
                    REQUIRE(it->first == key);
                    REQUIRE(it->second == model.at(key));
                    if (step % 8 == 0) {  // erase by iterator too
                        map.erase(it);
                        model.erase(key);
                    }
                }
                break;
            }
        }
    }
    check_same(map, model);
}
}  // namespace

TEST_SUITE("detail") {
TEST_CASE("a flat map finds what was inserted, once per key") {
    flat_map<std::string, int> map;
    CHECK(map.empty());
    CHECK(map.find("a") == map.end());
    CHECK(map.erase("a") == 0);
    const auto [it, inserted] = map.try_emplace("a", 1);
    CHECK(inserted);
    CHECK(it->first == "a");
    CHECK(it->second == 1);
    const auto [again, inserted_again] = map.try_emplace("a", 2);
    CHECK_FALSE(inserted_again);
    CHECK(again->second == 1);
    map["b"] = 3;
    CHECK(map.size() == 2);
    CHECK(map.contains("b"));
    CHECK(map.count("c") == 0);
    CHECK(map.erase("a") == 1);
    CHECK(map.find("a") == map.end());
}

TEST_CASE("a flat map behaves as std::unordered_map under random inserts, lookups and erasures") {
    SUBCASE("a well-spread hash") {
        flat_map<std::uint64_t, int> map;
        random_walk(map, 20261126, 5'000, 60'000);
    }
    SUBCASE("a hash with four values: long runs, shifts across the end of the index") {
        flat_map<std::uint64_t, int, clumping_hash> map;
        random_walk(map, 7, 300, 20'000);
    }
    SUBCASE("a reserved map") {
        flat_map<std::uint64_t, int> map;
        map.reserve(1'000);
        const auto buckets = map.bucket_count();
        random_walk(map, 11, 900, 5'000);
        CHECK(map.bucket_count() == buckets);
    }
}

TEST_CASE("a flat map grows, keeps its elements, and is copied and moved whole") {
    flat_map<allocation::order_id, std::vector<int>, allocation::detail::id_hash<allocation::order_id>> map;
    for (int i = 0; i < 10'000; ++i) map.try_emplace(allocation::order_id{std::to_string(i)}, std::vector<int>{i, i});
    REQUIRE(map.size() == 10'000);
    for (int i = 0; i < 10'000; i += 97) CHECK(map.find(allocation::order_id{std::to_string(i)})->second.back() == i);

    auto copy = map;
    CHECK(copy.size() == map.size());
    CHECK(copy.bucket_count() == map.bucket_count());
    CHECK(copy.erase(allocation::order_id{"5"}) == 1);
    CHECK(map.contains(allocation::order_id{"5"}));

    auto moved = std::move(copy);
    CHECK(moved.size() == 9'999);
    CHECK(copy.empty());  // NOLINT(bugprone-use-after-move): a moved-from map is empty and usable
    CHECK(copy.find(allocation::order_id{"1"}) == copy.end());
    copy[allocation::order_id{"x"}].push_back(1);
    CHECK(copy.size() == 1);

    map = moved;
    CHECK(map.size() == 9'999);
    map.clear();
    CHECK(map.empty());
    CHECK(map.find(allocation::order_id{"7"}) == map.end());
    map[allocation::order_id{"7"}] = {7};
    CHECK(map.size() == 1);
}

TEST_CASE("erasing while iterating visits every element once") {
    flat_map<std::uint64_t, int> map;
    for (std::uint64_t i = 0; i < 1'000; ++i) map.try_emplace(i, static_cast<int>(i));
    int erased = 0;
    for (auto it = map.begin(); it != map.end();) {
        if (it->first % 3 == 0) {
            it = map.erase(it);
            ++erased;
        } else {
            ++it;
        }
    }
    CHECK(erased == 334);
    CHECK(map.size() == 666);
    for (std::uint64_t i = 0; i < 1'000; ++i) CHECK(map.contains(i) == (i % 3 != 0));
}
}
