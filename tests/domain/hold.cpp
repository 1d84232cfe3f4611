// allocation — tests of allocation/domain/hold.hpp: holding stock until a deadline, confirming,
// releasing and expiring holds on a product.
// SPDX-License-Identifier: MIT
#include <allocation/domain/hold.hpp>

#include <allocation/domain/product.hpp>

#include <doctest/doctest.h>

#include "event_checks.hpp"

#include <chrono>
#include <variant>

using namespace allocation;
using namespace std::chrono_literals;
using checks::all_events;
using checks::count_events;
using checks::last_event;

namespace hold_tests {
auto at(std::chrono::seconds s) -> timestamp { return timestamp{s}; }
auto line(const char* order, std::int64_t qty, const char* code = "LAMP") -> order_line {
    return {order_id{order}, sku{code}, quantity{qty}};
}
auto lamp(std::int64_t a = 10, std::int64_t b = 0) -> product {
    product p{sku{"LAMP"}};
    REQUIRE(p.add_batch(batch_ref{"a"}, quantity{a}));
    if (b > 0) REQUIRE(p.add_batch(batch_ref{"b"}, quantity{b}, date{std::chrono::year{2030}, std::chrono::month{1}, std::chrono::day{1}}));
    p.clear_events();
    return p;
}

TEST_SUITE("domain") {
TEST_CASE("a hold takes its line whole from the preferred batch and counts against available") {
    auto p = lamp(10, 10);
    const auto h = p.hold(line("o1", 4), at(100s), at(0s));
    REQUIRE(h);
    CHECK(h.value().placed);
    CHECK(h.value().hold == hold{order_id{"o1"}, quantity{4}, batch_ref{"a"}, at(100s), 1, h.value().hold.sequence});
    CHECK(p.find_batch(batch_ref{"a"})->held() == quantity{4});
    CHECK(p.find_batch(batch_ref{"a"})->available() == quantity{6});
    CHECK(p.available() == quantity{16});
    CHECK(last_event<events::hold_placed>(p) ==
          events::hold_placed{order_id{"o1"}, sku{"LAMP"}, quantity{4}, batch_ref{"a"}, at(100s)});
    SUBCASE("others cannot take the held stock") {
        CHECK(p.allocate(line("o2", 7)).value() == batch_ref{"b"});
        CHECK(p.hold(line("o3", 7), at(100s), at(1s)).error() == errc::out_of_stock);
    }
    SUBCASE("a line no batch can take whole is not held and nothing changes") {
        const auto version = p.version();
        CHECK(p.hold(line("o2", 11), at(100s), at(0s)).error() == errc::out_of_stock);
        CHECK(p.version() == version);
        CHECK(p.holds().size() == 1);
    }
}

TEST_CASE("holding the same line again answers the live hold without a second hold or event") {
    auto p = lamp();
    REQUIRE(p.hold(line("o1", 4), at(100s), at(0s), 2));
    const auto version = p.version();
    const auto again = p.hold(line("o1", 4), at(500s), at(10s), 2);
    REQUIRE(again);
    CHECK_FALSE(again.value().placed);
    CHECK(again.value().hold.expires_at == at(100s));
    CHECK(p.version() == version);
    CHECK(count_events<events::hold_placed>(p) == 1);
    SUBCASE("another quantity is a clear error") {
        CHECK(p.hold(line("o1", 5), at(100s), at(10s), 2).error() == errc::hold_conflict);
    }
    SUBCASE("another number of lines of the order's hold is a clear error") {
        CHECK(p.hold(line("o1", 4), at(100s), at(10s), 1).error() == errc::hold_conflict);
    }
    SUBCASE("the held line cannot be allocated besides") {
        CHECK(p.allocate(line("o1", 4)).error() == errc::hold_conflict);
    }
}

TEST_CASE("a hold past its deadline never blocks an allocation or another hold, swept or not") {
    auto p = lamp();
    REQUIRE(p.hold(line("o1", 10), at(100s), at(0s)));
    CHECK(p.allocate(line("o2", 1), at(99s)).error() == errc::out_of_stock);
    SUBCASE("at the deadline an allocation takes the stock") {
        CHECK(p.allocate(line("o2", 10), at(100s)).value() == batch_ref{"a"});
    }
    SUBCASE("after the deadline another hold takes the stock") {
        CHECK(p.hold(line("o3", 10), at(300s), at(150s)).value().placed);
        CHECK(p.find_batch(batch_ref{"a"})->held() == quantity{10});
    }
    SUBCASE("the order may hold again, and its old hold is reported expired") {
        CHECK(p.hold(line("o1", 3), at(300s), at(150s)).value().placed);
        CHECK(count_events<events::hold_expired>(p) == 1);
        CHECK(p.find_hold(order_id{"o1"})->qty == quantity{3});
    }
    SUBCASE("the sweep only tells and tidies") {
        p.advance(at(100s));
        CHECK(p.available() == quantity{10});
        CHECK(count_events<events::hold_expired>(p) == 0);
        CHECK(p.expire_holds(at(101s)) == 1);
        CHECK(last_event<events::hold_expired>(p) ==
              events::hold_expired{order_id{"o1"}, sku{"LAMP"}, quantity{10}, batch_ref{"a"}});
        CHECK(p.holds().empty());
        CHECK(p.expire_holds(at(102s)) == 0);
        CHECK(p.available() == quantity{10});
    }
}

TEST_CASE("a sweep before any deadline changes nothing") {
    auto p = lamp();
    REQUIRE(p.hold(line("o1", 2), at(100s), at(0s)));
    const auto version = p.version();
    CHECK(p.expire_holds(at(50s)) == 0);
    CHECK(p.version() == version);
    CHECK(p.find_batch(batch_ref{"a"})->held() == quantity{2});
}

TEST_CASE("confirming a hold allocates in the batch that held it and releases the rest") {
    auto p = lamp(10, 10);
    REQUIRE(p.hold(line("o1", 6), at(100s), at(0s)));
    SUBCASE("all of it") {
        const auto a = p.confirm_hold(order_id{"o1"}, std::nullopt, at(10s));
        REQUIRE(a);
        CHECK(a.value() == line_allocation{sku{"LAMP"}, quantity{6}, batch_ref{"a"}});
        CHECK(p.find_batch(batch_ref{"a"})->allocated() == quantity{6});
        CHECK(p.find_batch(batch_ref{"a"})->held() == quantity{});
        CHECK(p.holds().empty());
        CHECK(count_events<events::hold_released>(p) == 0);
        SUBCASE("the same confirmation again answers the allocation") {
            CHECK(p.confirm_hold(order_id{"o1"}, std::nullopt, at(20s)).value() == a.value());
            CHECK(p.find_batch(batch_ref{"a"})->allocated() == quantity{6});
        }
    }
    SUBCASE("part of it") {
        const auto a = p.confirm_hold(order_id{"o1"}, quantity{2}, at(10s));
        REQUIRE(a);
        CHECK(a.value() == line_allocation{sku{"LAMP"}, quantity{2}, batch_ref{"a"}});
        CHECK(p.find_batch(batch_ref{"a"})->available() == quantity{8});
        CHECK(last_event<events::hold_released>(p) ==
              events::hold_released{order_id{"o1"}, sku{"LAMP"}, quantity{4}, batch_ref{"a"},
                                    hold_release_reason::partly_confirmed});
        CHECK(last_event<events::allocated>(p) ==
              events::allocated{order_id{"o1"}, sku{"LAMP"}, quantity{2}, batch_ref{"a"}});
    }
    SUBCASE("never more than was held") {
        CHECK(p.confirm_hold(order_id{"o1"}, quantity{7}, at(10s)).error() == errc::exceeds_hold);
        CHECK(p.find_hold(order_id{"o1"}) != nullptr);
    }
    SUBCASE("not after its deadline") {
        CHECK(p.confirm_hold(order_id{"o1"}, std::nullopt, at(100s)).error() == errc::hold_expired);
        CHECK(p.find_batch(batch_ref{"a"})->allocated() == quantity{});
    }
    SUBCASE("an order without a hold has nothing to confirm") {
        CHECK(p.confirm_hold(order_id{"o9"}, std::nullopt, at(10s)).error() == errc::not_held);
    }
}

TEST_CASE("releasing a hold gives its stock back") {
    auto p = lamp();
    REQUIRE(p.hold(line("o1", 6), at(100s), at(0s)));
    const auto r = p.release_hold(order_id{"o1"}, at(5s));
    REQUIRE(r);
    CHECK(r.value().qty == quantity{6});
    CHECK(r.value().batch == batch_ref{"a"});
    CHECK(p.available() == quantity{10});
    CHECK(last_event<events::hold_released>(p).reason == hold_release_reason::requested);
    CHECK(p.release_hold(order_id{"o1"}, at(6s)).error() == errc::not_held);
    SUBCASE("an expired hold is not live and is not released") {
        REQUIRE(p.hold(line("o2", 1), at(10s), at(6s)));
        CHECK(p.release_hold(order_id{"o2"}, at(10s)).error() == errc::not_held);
    }
}

TEST_CASE("a shrinking batch releases its holds first, the most recent first, then deallocates") {
    auto p = lamp(10);
    REQUIRE(p.allocate(line("early", 4)));
    REQUIRE(p.hold(line("h1", 3), at(100s), at(0s)));
    REQUIRE(p.hold(line("h2", 3), at(100s), at(1s)));
    p.clear_events();
    SUBCASE("holds go before any allocation") {
        REQUIRE(p.change_batch_quantity(batch_ref{"a"}, quantity{6}, at(2s)));
        CHECK(p.find_hold(order_id{"h2"}) == nullptr);
        CHECK(p.find_hold(order_id{"h1"}) == nullptr);
        CHECK(p.find_line(order_id{"early"}) != nullptr);
        CHECK(count_events<events::hold_released>(p) == 2);
        CHECK(std::get<events::hold_released>(p.events()[1]).order == order_id{"h2"});
        CHECK(count_events<events::deallocated>(p) == 0);
    }
    SUBCASE("only as many holds as needed") {
        REQUIRE(p.change_batch_quantity(batch_ref{"a"}, quantity{8}, at(2s)));
        CHECK(p.find_hold(order_id{"h1"}) != nullptr);
        CHECK(p.find_hold(order_id{"h2"}) == nullptr);
    }
    SUBCASE("then allocations, as rule 6 says") {
        REQUIRE(p.change_batch_quantity(batch_ref{"a"}, quantity{2}, at(2s)));
        CHECK(p.holds().empty());
        CHECK(last_event<events::deallocated>(p).order == order_id{"early"});
    }
    SUBCASE("an expired hold is not released: it no longer counts") {
        REQUIRE(p.change_batch_quantity(batch_ref{"a"}, quantity{4}, at(100s)));
        CHECK(count_events<events::hold_released>(p) == 0);
        CHECK(count_events<events::deallocated>(p) == 0);
    }
}

TEST_CASE("a hold must expire after it is placed and name a valid line") {
    auto p = lamp();
    CHECK(p.hold(line("o1", 1), at(10s), at(10s)).error() == errc::invalid_deadline);
    CHECK(p.hold(line("o1", 0), at(20s), at(10s)).error() == errc::invalid_quantity);
    CHECK(p.hold(line("o1", 1, "DESK"), at(20s), at(10s)).error() == errc::sku_mismatch);
    CHECK(p.hold(line("", 1), at(20s), at(10s)).error() == errc::invalid_identifier);
    CHECK(p.hold(line("o1", 1), at(20s), at(10s), 0).error() == errc::invalid_quantity);
    CHECK(p.holds().empty());
}

TEST_CASE("an allocated line cannot be held besides") {
    auto p = lamp();
    REQUIRE(p.allocate(line("o1", 1)));
    CHECK(p.hold(line("o1", 1), at(20s), at(10s)).error() == errc::hold_conflict);
}

TEST_CASE("rolling back undoes holds placed, confirmed, released and swept") {
    auto p = lamp(10, 10);
    REQUIRE(p.hold(line("keep", 2), at(50s), at(0s)));
    REQUIRE(p.hold(line("late", 3), at(20s), at(0s)));
    const auto before = p.facts();
    const auto available = p.available();
    p.checkpoint();
    REQUIRE(p.hold(line("new", 4), at(100s), at(1s)));
    REQUIRE(p.confirm_hold(order_id{"keep"}, quantity{1}, at(2s)));
    CHECK(p.expire_holds(at(30s)) == 1);
    REQUIRE(p.release_hold(order_id{"new"}, at(31s)));
    p.rollback();
    CHECK(p.facts() == before);
    CHECK(p.available() == available);
    CHECK(p.find_line(order_id{"keep"}) == nullptr);
    SUBCASE("and the restored holds expire as they would have") {
        CHECK(p.expire_holds(at(30s)) == 1);
        CHECK(p.find_hold(order_id{"late"}) == nullptr);
        CHECK(p.find_hold(order_id{"keep"}) != nullptr);
        CHECK(p.expire_holds(at(50s)) == 1);
        CHECK(p.available() == quantity{20});
    }
}

TEST_CASE("tracked changes name every hold placed and removed") {
    auto p = lamp();
    p.checkpoint();
    REQUIRE(p.hold(line("o1", 2), at(50s), at(0s)));
    REQUIRE(p.release_hold(order_id{"o1"}, at(1s)));
    using kind = product::change::kind;
    REQUIRE(p.changes().size() == 2);
    CHECK(p.changes()[0].what == kind::hold_placed);
    CHECK(p.changes()[1].what == kind::hold_removed);
    CHECK(p.tracked_hold(p.changes()[0]).expires_at == at(50s));
    CHECK(p.tracked_hold(p.changes()[1]).order == order_id{"o1"});
}

TEST_CASE("a product restored from its facts has the same holds, counted against its batches") {
    auto p = lamp(10, 10);
    REQUIRE(p.hold(line("o1", 4), at(50s), at(0s), 2));
    REQUIRE(p.hold(line("o2", 10), at(70s), at(0s)));
    const auto facts = p.facts();
    REQUIRE(facts.holds.size() == 2);
    CHECK(facts.holds[0].order == order_id{"o1"});
    std::vector<batch> batches(p.batches().begin(), p.batches().end());
    product loaded{sku{"LAMP"}, std::move(batches), p.version()};
    REQUIRE(loaded.restore(facts));
    CHECK(loaded.facts() == facts);
    CHECK(loaded.available() == p.available());
    CHECK(loaded.hold(line("o3", 1), at(90s), at(1s)).value().hold.sequence > facts.holds[1].sequence);
    CHECK(loaded.expire_holds(at(60s)) == 1);
    SUBCASE("a hold of an unknown batch is refused") {
        product other{sku{"LAMP"}};
        CHECK(other.restore(facts).error() == errc::unknown_batch);
    }
}

TEST_CASE("a product restored with a lapsed hold whose stock went to other lines has that hold lapsed, and a sweep expires it") {
    auto p = lamp(10);
    REQUIRE(p.hold(line("o1", 10), at(50s), at(0s)));
    CHECK(p.allocate(line("o2", 4), at(60s)).value() == batch_ref{"a"});
    REQUIRE(p.hold(line("o3", 6), at(200s), at(60s)));
    const auto facts = p.facts();
    REQUIRE(facts.holds.size() == 2);  // o1 is stored until a sweep
    std::vector<batch> batches(p.batches().begin(), p.batches().end());
    product loaded{sku{"LAMP"}, std::move(batches), p.version()};
    REQUIRE(loaded.restore(facts));
    CHECK(loaded.available() == quantity{});
    REQUIRE(loaded.find_hold(order_id{"o1"}) != nullptr);
    CHECK(loaded.find_hold(order_id{"o1"})->lapsed);
    CHECK_FALSE(loaded.find_hold(order_id{"o3"})->lapsed);
    CHECK(loaded.confirm_hold(order_id{"o1"}, {}, at(61s)).error() == errc::hold_expired);
    loaded.clear_events();
    CHECK(loaded.expire_holds(at(61s)) == 1);
    CHECK(count_events<events::hold_expired>(loaded) == 1);
    CHECK(loaded.find_hold(order_id{"o1"}) == nullptr);
    CHECK(loaded.find_hold(order_id{"o3"}) != nullptr);
    CHECK(loaded.available() == quantity{});
}

TEST_CASE("many holds expiring at once free all their stock in one step") {
    product p{sku{"LAMP"}};
    REQUIRE(p.add_batch(batch_ref{"a"}, quantity{100'000}));
    for (int i = 0; i < 10'000; ++i) {
        REQUIRE(p.hold(line(fmt::format("o{}", i).c_str(), 10), at(std::chrono::seconds{100 + i % 7}), at(0s)));
    }
    CHECK(p.available() == quantity{});
    p.advance(at(106s));
    CHECK(p.available() == quantity{100'000});
    CHECK(p.expire_holds(at(106s)) == 10'000);
    CHECK(p.holds().empty());
}
}
}  // namespace hold_tests
