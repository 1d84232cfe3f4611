// allocation — tests of allocation/strategies/strategy.hpp: the strategy concept, the ordered
// index, and split allocation planned through it (all or nothing, undone exactly by rollback,
// opt-in through the message bus).
// SPDX-License-Identifier: MIT
#include <allocation/strategies/strategy.hpp>

#include <allocation/allocation.hpp>
#include <allocation/domain/product.hpp>
#include <allocation/strategies/best_fit.hpp>
#include <allocation/strategies/fefo.hpp>
#include <allocation/strategies/fifo.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <span>
#include <variant>
#include <vector>

using namespace allocation;

namespace strategy_tests {
auto line(const char* order, std::int64_t qty) -> order_line { return {order_id{order}, sku{"LAMP"}, quantity{qty}}; }
auto part(const char* ref, std::int64_t qty) -> line_allocation { return {sku{"LAMP"}, quantity{qty}, batch_ref{ref}}; }
template <class Event, class Product>
auto count_events(const Product& p) -> std::size_t {
    std::size_t n = 0;
    for (const auto& e : p.events()) n += std::holds_alternative<Event>(e) ? 1 : 0;
    return n;
}
// The batches' state that rollback must restore exactly.
template <class Product>
auto snapshot(const Product& p) {
    std::vector<std::vector<batch::entry>> out;
    for (const auto& b : p.batches()) out.emplace_back(b.allocations().begin(), b.allocations().end());
    return out;
}

struct no_preference {};
// A strategy whose index has no plan_split of its own: splits use the generic plan.
struct linear_scan {
    template <class Batch>
    auto prefers(const Batch&, const Batch&) const noexcept -> bool { return false; }
    template <class Batch>
    struct index {
        void rebuild(const linear_scan&, std::span<const Batch>) {}
        void update(const linear_scan&, std::span<const Batch>, std::size_t) {}
        auto find(const linear_scan&, std::span<const Batch> batches, typename Batch::quantity_type q) const
            -> std::optional<std::size_t> {
            for (std::size_t i = 0; i < batches.size(); ++i) {
                if (batches[i].can_allocate(q)) return i;
            }
            return std::nullopt;
        }
    };
};

TEST_SUITE("strategies") {
TEST_CASE("the shipped strategies model allocation_strategy and a type without prefers does not") {
    // Checked when compiling; the test case names what is checked.
    static_assert(allocation_strategy<warehouse_first, batch>);
    static_assert(allocation_strategy<fifo, batch>);
    static_assert(allocation_strategy<fefo, batch>);
    static_assert(allocation_strategy<basic_fefo<manual_calendar>, batch>);
    static_assert(allocation_strategy<best_fit, batch>);
    static_assert(allocation_strategy<linear_scan, batch>);
    static_assert(!allocation_strategy<no_preference, batch>);
    static_assert(batch_eligibility<fefo, batch>);
    static_assert(!batch_eligibility<fifo, batch>);
}

TEST_CASE("the ordered index finds what a scan in preference order finds, from any position") {
    std::mt19937 rng(42);
    for (const std::size_t n : {1U, 2U, 3U, 7U, 8U, 9U, 33U, 100U}) {
        std::vector<batch> batches;
        for (std::size_t i = 0; i < n; ++i) {
            batches.emplace_back(batch_ref{fmt::format("b{}", i)}, sku{"LAMP"},
                                 quantity{std::uniform_int_distribution<std::int64_t>(0, 10)(rng)});
        }
        detail::ordered_index<batch> index;
        index.rebuild(fifo{}, std::span<const batch>(batches));
        for (std::size_t start = 0; start <= n; ++start) {
            for (std::int64_t q = 1; q <= 11; ++q) {
                std::optional<std::size_t> expected;
                for (std::size_t i = start; i < n && !expected; ++i) {
                    if (batches[i].available() >= quantity{q}) expected = i;
                }
                CHECK(index.find_from(start, quantity{q}) == expected);
                if (start == 0) CHECK(index.find(fifo{}, std::span<const batch>(batches), quantity{q}) == expected);
            }
        }
    }
}

TEST_CASE("a line no batch can take whole is split over batches in preference order") {
    product p{sku{"LAMP"}};
    REQUIRE(p.add_batch(batch_ref{"later"}, quantity{10}, date{std::chrono::year{2030} / 1 / 2}));
    REQUIRE(p.add_batch(batch_ref{"stock"}, quantity{10}));
    REQUIRE(p.add_batch(batch_ref{"soon"}, quantity{10}, date{std::chrono::year{2030} / 1 / 1}));
    const auto version = p.version();
    p.clear_events();

    SUBCASE("split over the preferred batches, one Allocated event per part") {
        const auto parts = p.allocate_split(line("o1", 25));
        REQUIRE(parts);
        CHECK(parts.value() == std::vector{part("stock", 10), part("soon", 10), part("later", 5)});
        CHECK(p.available() == quantity{5});
        CHECK(p.version() == version + 1);
        CHECK(count_events<events::allocated>(p) == 3);
        CHECK(std::get<events::allocated>(p.events()[2]) ==
              events::allocated{order_id{"o1"}, sku{"LAMP"}, quantity{5}, batch_ref{"later"}});
        CHECK(p.find_line(order_id{"o1"})->parts.size() == 3);
    }
    SUBCASE("a line one batch can take is not split") {
        CHECK(p.allocate_split(line("o1", 10)).value() == std::vector{part("stock", 10)});
    }
    SUBCASE("allocate() never splits") {
        CHECK(p.allocate(line("o1", 25)).error() == errc::out_of_stock);
        CHECK(p.available() == quantity{30});
    }
    SUBCASE("more than every batch together is out of stock, and nothing changes") {
        CHECK(p.allocate_split(line("o1", 31)).error() == errc::out_of_stock);
        CHECK(p.available() == quantity{30});
        CHECK(p.version() == version);
        CHECK(p.lines().empty());
        CHECK(count_events<events::out_of_stock>(p) == 1);
        CHECK(count_events<events::allocated>(p) == 0);
    }
    SUBCASE("a split line sent again is answered with its parts, with no new event") {
        REQUIRE(p.allocate_split(line("o1", 25)));
        p.clear_events();
        CHECK(p.allocate_split(line("o1", 25)).value().size() == 3);
        CHECK(p.allocate(line("o1", 25)).value() == batch_ref{"stock"});
        CHECK(p.events().empty());
        CHECK(p.available() == quantity{5});
        CHECK(p.allocate_split(line("o1", 24)).error() == errc::conflicting_resubmission);
    }
    SUBCASE("deallocating a split line frees every part") {
        REQUIRE(p.allocate_split(line("o1", 25)));
        CHECK(p.deallocate(order_id{"o1"}, quantity{25}).value() == batch_ref{"stock"});
        CHECK(p.available() == quantity{30});
        for (const auto& b : p.batches()) CHECK(b.allocations().empty());
    }
    SUBCASE("shrinking a batch that holds part of a split line frees the whole line") {
        REQUIRE(p.allocate_split(line("o1", 25)));
        REQUIRE(p.change_batch_quantity(batch_ref{"soon"}, quantity{4}));
        CHECK(p.find_line(order_id{"o1"}) == nullptr);
        CHECK(p.available() == quantity{24});
        CHECK(count_events<events::deallocated>(p) == 1);
    }
}

TEST_CASE("rollback undoes split allocations and deallocations exactly") {
    product p{sku{"LAMP"}};
    for (const char* ref : {"a", "b", "c"}) REQUIRE(p.add_batch(batch_ref{ref}, quantity{10}));
    REQUIRE(p.allocate(line("first", 3)));
    REQUIRE(p.allocate_split(line("split", 12)));  // a: 7, b: 5
    REQUIRE(p.allocate(line("last", 2)));          // b
    const auto before = snapshot(p);
    const auto version = p.version();
    const auto events = p.events().size();

    SUBCASE("a split allocation") {
        p.checkpoint();
        REQUIRE(p.allocate_split(line("more", 13)).value().size() == 2);  // b: 3, c: 10
        p.rollback();
    }
    SUBCASE("a split line's deallocation") {
        p.checkpoint();
        REQUIRE(p.deallocate(order_id{"split"}));
        p.rollback();
    }
    SUBCASE("a shrink that frees a split line, then a split reallocation") {
        p.checkpoint();
        REQUIRE(p.change_batch_quantity(batch_ref{"a"}, quantity{4}));
        REQUIRE(p.allocate_split(line("split", 12)));
        p.rollback();
    }
    CHECK(snapshot(p) == before);
    CHECK(p.version() == version);
    CHECK(p.events().size() == events);
    CHECK(p.available() == quantity{30 - 17});
    const auto* rec = p.find_line(order_id{"split"});
    REQUIRE(rec != nullptr);
    REQUIRE(rec->parts.size() == 2);
    CHECK(rec->parts[0].batch == 0);
    CHECK(rec->parts[0].qty == quantity{7});
    CHECK(rec->parts[1].batch == 1);
    CHECK(rec->parts[1].qty == quantity{5});
    CHECK(p.allocate_split(line("after", 13)).value() == std::vector{part("b", 3), part("c", 10)});
}

TEST_CASE("a strategy whose index cannot plan splits still splits, in preference order") {
    basic_product<linear_scan> p{sku{"LAMP"}};
    REQUIRE(p.add_batch(batch_ref{"a"}, quantity{4}));
    REQUIRE(p.add_batch(batch_ref{"b"}, quantity{0}));
    REQUIRE(p.add_batch(batch_ref{"c"}, quantity{6}));
    CHECK(p.allocate_split(line("o1", 9)).value() == std::vector{part("a", 4), part("c", 5)});
    CHECK(p.allocate_split(line("o2", 2)).error() == errc::out_of_stock);
}
}

TEST_SUITE("strategies") {
TEST_CASE("the message bus splits a line only when asked to, and answers with the parts") {
    memory::store store;
    memory::allocations_view view;
    auto bus = bootstrap(store, bootstrap_options{}, std::ref(view));
    for (const char* ref : {"a", "b"}) {
        REQUIRE(bus.handle(commands::create_batch{.ref = batch_ref{ref}, .sku = sku{"LAMP"}, .qty = quantity{10}}));
    }
    CHECK(bus.handle(commands::allocate{.order = order_id{"o1"}, .sku = sku{"LAMP"}, .qty = quantity{15}}).error() ==
          errc::out_of_stock);
    const auto parts = bus.handle(commands::allocate_split{.order = order_id{"o1"}, .sku = sku{"LAMP"}, .qty = quantity{15}});
    REQUIRE(parts);
    CHECK(parts.value() == std::vector{part("a", 10), part("b", 5)});
    CHECK(view.get(order_id{"o1"}).value().size() == 2);
    CHECK(bus.handle(commands::allocate_split{.order = order_id{"o1"}, .sku = sku{"LAMP"}, .qty = quantity{15}}).value() ==
          parts.value());
    CHECK(bus.handle(commands::allocate_split{.order = order_id{"o2"}, .sku = sku{"LAMP"}, .qty = quantity{6}}).error() ==
          errc::out_of_stock);
    CHECK(bus.handle(commands::allocate_split{.order = order_id{"o3"}, .sku = sku{"NOPE"}, .qty = quantity{1}}).error() ==
          errc::invalid_sku);
    REQUIRE(bus.handle(commands::deallocate{.order = order_id{"o1"}, .sku = sku{"LAMP"}}));
    CHECK(view.get(order_id{"o1"}).value().empty());
    CHECK(store.read(sku{"LAMP"}, [](const product& p) { CHECK(p.available() == quantity{20}); }));
}
}
}  // namespace strategy_tests
