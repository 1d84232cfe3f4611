// allocation — tests of allocation/ports/inbox_holds.hpp: the stored forms of hold results.
// SPDX-License-Identifier: MIT
#include <allocation/ports/inbox_holds.hpp>

#include <doctest/doctest.h>

#include <chrono>

using namespace allocation;
using namespace std::chrono_literals;

TEST_SUITE("ports") {
TEST_CASE("a hold result comes back from its stored form with its deadline, lines and replay flag") {
    const held_order h{order_id{}, timestamp{1'764'590'400'123ms},
                       {{sku{"LAMP"}, quantity{3}, batch_ref{"b1"}}, {sku{"DESK"}, quantity{1}, batch_ref{"b2"}}}, true};
    const auto text = inbox::encode(result<held_order>{h});
    const auto back = inbox::decode(text, std::type_identity<result<held_order>>{});
    REQUIRE(back);
    CHECK(back.value() == h);
    SUBCASE("a refusal too") {
        const auto refused = inbox::encode(result<held_order>{errc::out_of_stock});
        CHECK(inbox::decode(refused, std::type_identity<result<held_order>>{}).error() == errc::out_of_stock);
    }
    SUBCASE("a damaged form is a storage error") {
        for (const char* bad : {"", "H", "H12", "H12\x1f" "2\x1eL", "Hx\x1f" "0\x1eL", "L"}) {
            CHECK(inbox::decode(bad, std::type_identity<result<held_order>>{}).error() == errc::storage_error);
        }
    }
}

}
