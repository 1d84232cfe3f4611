// allocation — tests of allocation/adapters/common/outbox_row.hpp: every event as an outbox row
// and back.
// SPDX-License-Identifier: MIT
#include <allocation/adapters/common/outbox_row.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <vector>

using namespace allocation;

TEST_SUITE("common") {
TEST_CASE("every event type comes back from its outbox row as it was") {
    const date day{std::chrono::year{2026}, std::chrono::month{12}, std::chrono::day{24}};
    const timestamp deadline{std::chrono::milliseconds{1'764'590'400'123}};
    const std::vector<events::event> all{
        events::batch_created{batch_ref{"b1"}, sku{"LAMP"}, quantity{10}, day},
        events::allocated{order_id{"o1"}, sku{"LAMP"}, quantity{2}, batch_ref{"b1"}},
        events::deallocated{order_id{"o1"}, sku{"LAMP"}, quantity{2}, batch_ref{"b1"}, deallocation_reason::batch_shrunk},
        events::out_of_stock{order_id{"o2"}, sku{"LAMP"}, quantity{99}},
        events::low_stock{sku{"LAMP"}, quantity{3}, quantity{17}},
        events::batch_quantity_changed{batch_ref{"b1"}, sku{"LAMP"}, quantity{10}, quantity{4}},
        events::hold_placed{order_id{"o3"}, sku{"LAMP"}, quantity{1}, batch_ref{"b1"}, deadline},
        events::hold_released{order_id{"o3"}, sku{"LAMP"}, quantity{1}, batch_ref{"b1"},
                              hold_release_reason::partly_confirmed},
        events::hold_released{order_id{"o3"}, sku{"LAMP"}, quantity{1}, batch_ref{"b1"}, hold_release_reason::batch_shrunk},
        events::hold_expired{order_id{"o4"}, sku{"LAMP"}, quantity{5}, batch_ref{"b1"}},
        events::backordered{order_id{"o5"}, sku{"LAMP"}, quantity{6}, -3},
        events::backorder_cancelled{order_id{"o5"}, sku{"LAMP"}, quantity{6}},
    };
    std::vector<bool> seen(std::variant_size_v<events::event>, false);
    for (const auto& e : all) {
        seen[e.index()] = true;
        const auto row = detail::to_outbox_row(e);
        CHECK(row.channel == events::channel(e));
        const auto back = detail::from_outbox_row(row);
        REQUIRE(back);
        CHECK(*back == e);
    }
    for (std::size_t i = 0; i < seen.size(); ++i) CHECK_MESSAGE(seen[i], "event type ", i, " not covered");
}

TEST_CASE("an outbox row of an unknown channel is no event") {
    detail::basic_outbox_row<default_traits> row;
    row.channel = "from_a_newer_version";
    CHECK_FALSE(detail::from_outbox_row(row).has_value());
}
}
