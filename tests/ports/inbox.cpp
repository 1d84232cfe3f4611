// allocation — tests of allocation/ports/inbox.hpp: the stored form of a command's result, for
// the library's identifiers and for plain integer identifiers.
// SPDX-License-Identifier: MIT
#include <allocation/ports/inbox.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "domain/integer_traits.hpp"

using namespace allocation;

namespace {
template <class R>
auto round_trip(const R& r) -> R {
    return inbox::decode(inbox::encode(r), std::type_identity<R>{});
}
}  // namespace

TEST_SUITE("ports") {
TEST_CASE("an Allocate result is read back as it was stored") {
    CHECK(round_trip(result<batch_ref>{batch_ref{"b-1"}}).value() == batch_ref{"b-1"});
    CHECK(round_trip(result<batch_ref>{errc::out_of_stock}).error() == errc::out_of_stock);
    CHECK(round_trip(result<std::int64_t>{std::int64_t{1234}}).value() == 1234);
    CHECK(round_trip(result<std::int64_t>{errc::invalid_sku}).error() == errc::invalid_sku);
}

TEST_CASE("an AllocateOrder result is read back as it was stored") {
    using lines = std::vector<line_allocation>;
    const lines text_ids{{sku{"LAMP"}, quantity{3}, batch_ref{"b1"}}, {sku{"CHAIR"}, quantity{1}, batch_ref{"b2"}}};
    CHECK(round_trip(result<lines>{text_ids}).value() == text_ids);

    using int_lines = std::vector<basic_line_allocation<erp::integer_traits>>;
    const int_lines int_ids{{7, erp::qty(1, 500), 100}, {8, erp::qty(0, 1), 101}};
    CHECK(round_trip(result<int_lines>{int_ids}).value() == int_ids);
    CHECK(round_trip(result<int_lines>{errc::out_of_stock}).error() == errc::out_of_stock);
}

TEST_CASE("a stored result that is not one of the library's forms is a storage error") {
    CHECK(inbox::decode_batch_ref<std::int64_t>("Bx1").error() == errc::storage_error);
    CHECK(inbox::decode_batch_ref<batch_ref>("").error() == errc::storage_error);
    CHECK(inbox::decode_line_allocations<erp::integer_traits>("L7\x1f" "1\x1f" "b\x1e").error() == errc::storage_error);
    CHECK(inbox::decode_line_allocations<default_traits>("X").error() == errc::storage_error);
}
}
