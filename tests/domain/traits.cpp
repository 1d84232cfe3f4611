// allocation — tests of allocation/domain/traits.hpp: which traits model domain_traits, and the
// domain built from user traits (plain integers and strings, a decimal quantity, an own date
// type) through the product, the memory store and the bus.
// SPDX-License-Identifier: MIT
#include <allocation/domain/traits.hpp>

#include <allocation/allocation.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "domain/integer_traits.hpp"

using namespace allocation;

namespace {
struct erp_traits {
    using order_id_type = std::uint64_t;
    using sku_type = std::string;
    using batch_ref_type = std::string;
    using quantity_type = std::int64_t;
    using date_type = std::chrono::year_month_day;
};
using erp_product = basic_product<warehouse_first, erp_traits>;
using erp_store = memory::basic_store<erp_product>;

struct unhashable_ref {
    int n = 0;
    friend auto operator==(const unhashable_ref&, const unhashable_ref&) -> bool = default;
};
struct traits_without_date {
    using order_id_type = std::int64_t;
    using sku_type = std::int64_t;
    using batch_ref_type = std::int64_t;
    using quantity_type = std::int64_t;
};
struct traits_with_unhashable_ref : erp::integer_traits {
    using batch_ref_type = unhashable_ref;
};
struct traits_with_huge_bound : erp::integer_traits {
    static constexpr erp::thousandths max_quantity{std::int64_t{1} << 60};
};
struct traits_with_own_rule : erp::integer_traits {
    static constexpr auto is_valid(std::int64_t id) noexcept -> bool { return id >= 0; }
};

using int_traits = erp::integer_traits;
using int_product = basic_product<warehouse_first, int_traits>;
using erp::day;
using erp::qty;
}  // namespace

TEST_SUITE("domain") {
TEST_CASE("traits that name every type with what the library needs model domain_traits") {
    static_assert(domain_traits<default_traits>);
    static_assert(domain_traits<erp_traits>);
    static_assert(domain_traits<int_traits>);
    static_assert(domain_traits<traits_with_own_rule>);
    static_assert(!names_domain_types<traits_without_date>);
    static_assert(!domain_traits<traits_without_date>);
    static_assert(!hashable_identifier<unhashable_ref>);
    static_assert(!domain_traits<traits_with_unhashable_ref>);
    static_assert(!sane_quantity_bound<traits_with_huge_bound>);
    static_assert(!quantity_value<double>);
    CHECK(detail::count(max_quantity_of<default_traits>()) == max_quantity);
    CHECK(max_quantity_of<int_traits>() == qty(1'000'000'000));
    CHECK(max_quantity_of<erp_traits>() == max_quantity);
}

TEST_CASE("identifiers have a text form: integers, strings and the library's identifiers") {
    CHECK(id_text<std::int64_t>::to_text(-42) == "-42");
    CHECK(id_text<std::int64_t>::from_text("1234") == std::int64_t{1234});
    CHECK_FALSE(id_text<std::int64_t>::from_text("12x").has_value());
    CHECK_FALSE(id_text<std::int64_t>::from_text("").has_value());
    CHECK(id_text<sku>::from_text("LAMP") == sku{"LAMP"});
    CHECK(id_text<std::string>::to_text("b1") == "b1");
}

TEST_CASE("a product can be built from the ERP's own identifier and quantity types") {
    erp_product p{"LAMP"};
    REQUIRE(p.add_batch("b1", 10));
    CHECK(p.allocate({42u, "LAMP", 3}).value() == "b1");
    CHECK(p.available() == 7);
    CHECK(p.allocate({43u, "LAMP", 0}).error() == errc::invalid_quantity);
    CHECK(p.allocate({0u, "LAMP", 1}).error() == errc::invalid_identifier);
    CHECK(p.add_batch("", 1).error() == errc::invalid_identifier);
}

TEST_CASE("integer identifiers at or below zero are invalid unless the traits say otherwise") {
    int_product p{7};
    REQUIRE(p.add_batch(100, qty(10)));
    CHECK(p.allocate({0, 7, qty(1)}).error() == errc::invalid_identifier);
    CHECK(p.allocate({-42, 7, qty(1)}).error() == errc::invalid_identifier);
    CHECK(p.add_batch(0, qty(1)).error() == errc::invalid_identifier);
    CHECK(p.allocate({42, 7, qty(1)}).value() == 100);

    basic_product<warehouse_first, traits_with_own_rule> q{7};
    REQUIRE(q.add_batch(0, qty(10)));
    CHECK(q.allocate({0, 7, qty(1)}).value() == 0);
    CHECK(q.allocate({-1, 7, qty(1)}).error() == errc::invalid_identifier);
}

TEST_CASE("a decimal quantity is allocated in thousandths up to the bound its traits give") {
    int_product p{7};
    REQUIRE(p.add_batch(100, qty(5'000'000)));  // above 2^31 - 1 thousandths
    CHECK(p.allocate({1, 7, qty(1, 250)}).value() == 100);
    CHECK(p.available() == qty(4'999'998, 750));
    CHECK(p.allocate({2, 7, qty(0, 1)}).value() == 100);
    CHECK(p.allocate({3, 7, qty(1'000'000'000, 1)}).error() == errc::invalid_quantity);
    CHECK(p.add_batch(101, qty(1'000'000'000, 1)).error() == errc::invalid_quantity);
    CHECK(fmt::format("{}", p.available()) == "4999998.749");
}

TEST_CASE("an own date type orders shipments for the default strategy") {
    int_product p{7};
    REQUIRE(p.add_batch(200, qty(5), day{20'000}));
    REQUIRE(p.add_batch(100, qty(5), day{19'000}));
    REQUIRE(p.add_batch(300, qty(5)));
    CHECK(p.allocate({1, 7, qty(5)}).value() == 300);
    CHECK(p.allocate({2, 7, qty(5)}).value() == 100);
    CHECK(p.allocate({3, 7, qty(5)}).value() == 200);
}

TEST_CASE("the message bus runs on a store of user-traits products") {
    erp_store store;
    memory::basic_allocations_view<erp_traits> view;
    auto bus = bootstrap(store, {}, std::ref(view));
    REQUIRE(bus.handle(commands::basic_create_batch<erp_traits>{.ref = "b1", .sku = "LAMP", .qty = 5}));
    CHECK(bus.handle(commands::basic_allocate<erp_traits>{.order = 7u, .sku = "LAMP", .qty = 2}).value() == "b1");
    CHECK(bus.handle(commands::basic_allocate<erp_traits>{.order = 8u, .sku = "LAMP", .qty = 9}).error() ==
          errc::out_of_stock);
    const auto rows = view.get(7u).value();
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].batch == "b1");
}

TEST_CASE("integer identifiers, decimal quantities and an own date type work through the bus") {
    memory::basic_store<int_product> store;
    memory::basic_allocations_view<int_traits> view;
    memory::notifications notes;
    auto bus = bootstrap(store, {}, std::ref(view), std::ref(notes));
    using create = commands::basic_create_batch<int_traits>;
    using alloc = commands::basic_allocate<int_traits>;
    REQUIRE(bus.handle(create{.ref = 11, .sku = 7, .qty = qty(2, 500), .eta = day{20'100}}));
    REQUIRE(bus.handle(create{.ref = 10, .sku = 7, .qty = qty(1)}));
    CHECK(bus.handle(create{.ref = -1, .sku = 7, .qty = qty(1)}).error() == errc::invalid_identifier);
    CHECK(bus.handle(create{.ref = 12, .sku = 0, .qty = qty(1)}).error() == errc::invalid_identifier);

    CHECK(bus.handle(alloc{.order = 42, .sku = 7, .qty = qty(0, 750)}).value() == 10);
    CHECK(bus.handle(alloc{.order = 43, .sku = 7, .qty = qty(0, 500)}).value() == 11);
    CHECK(bus.handle(alloc{.order = 0, .sku = 7, .qty = qty(1)}).error() == errc::invalid_identifier);
    CHECK(bus.handle(alloc{.order = -42, .sku = 7, .qty = qty(1)}).error() == errc::invalid_identifier);
    CHECK(bus.handle(alloc{.order = 44, .sku = 7, .qty = qty(5)}).error() == errc::out_of_stock);
    CHECK(bus.handle(alloc{.order = 45, .sku = 8, .qty = qty(1)}).error() == errc::invalid_sku);

    REQUIRE(bus.handle(commands::basic_change_batch_quantity<int_traits>{.ref = 10, .qty = qty(0, 500)}));
    const auto rows = view.get(42).value();
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].batch == 11);  // reallocated to the shipment when the stock shrank

    const auto order = bus.handle(commands::basic_allocate_order<int_traits>{
        .order = 50, .lines = {{.sku = 7, .qty = qty(0, 200)}, {.sku = 7, .qty = qty(0, 300)}}});
    REQUIRE(order);
    REQUIRE(order.value().size() == 1);
    CHECK(order.value()[0].qty == qty(0, 500));

    const auto sent = notes.sent();
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].text == "Out of stock for 7: order 44 wanted 5.000");
}
}
