// allocation — the domain built from user traits: plain integers and strings instead of the
// strong types of default_traits, through the product, the memory store and the bus.
// SPDX-License-Identifier: MIT
#include <allocation/allocation.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <string>

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
using erp_store = memory::store<erp_product>;
}  // namespace

TEST_SUITE("domain") {
TEST_CASE("a product can be built from the ERP's own identifier and quantity types") {
    erp_product p{"LAMP"};
    REQUIRE(p.add_batch("b1", 10));
    CHECK(p.allocate({42u, "LAMP", 3}).value() == "b1");
    CHECK(p.available() == 7);
    CHECK(p.allocate({43u, "LAMP", 0}).error() == errc::invalid_quantity);
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
}
