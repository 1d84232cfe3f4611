// Tests of examples/service/iso_date.hpp: `eta` texts read as the reference's
// datetime.fromisoformat reads them, checked against a table Python 3.11 made
// (data/fromisoformat.json, written by data/fromisoformat.py).
// SPDX-License-Identifier: MIT
#include "iso_date.hpp"

#include <fstream>
#include <string>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace iso_date_tests {

#ifndef ALLOCATION_SERVICE_TEST_DATA
#error "ALLOCATION_SERVICE_TEST_DATA must name tests/service/data"
#endif

using namespace allocation;
using namespace allocation::service;
using namespace std::chrono_literals;

TEST_SUITE("service") {

TEST_CASE("the forms of the reference's documentation give their date") {
    CHECK(date_from_isoformat("2011-01-02") == date{2011y / 1 / 2});
    CHECK(date_from_isoformat("20110102") == date{2011y / 1 / 2});
    CHECK(date_from_isoformat("2011-01-02T00:00:00") == date{2011y / 1 / 2});
    CHECK(date_from_isoformat("2011-11-04T00:05:23.283+00:00") == date{2011y / 11 / 4});
    CHECK(date_from_isoformat("2011-11-04 00:05:23.283") == date{2011y / 11 / 4});
    CHECK(date_from_isoformat("2011-11-04T00:05:23Z") == date{2011y / 11 / 4});
    CHECK(date_from_isoformat("20111104T000523") == date{2011y / 11 / 4});
    CHECK(date_from_isoformat("2011-W01-2T00:05:23.283") == date{2011y / 1 / 4});
}

TEST_CASE("a time zone does not move the date") {
    CHECK(date_from_isoformat("2011-01-02T23:30:00-12:00") == date{2011y / 1 / 2});
    CHECK(date_from_isoformat("2011-01-02T00:30:00+14:00") == date{2011y / 1 / 2});
}

TEST_CASE("texts that are no date and time, or no valid one, give none") {
    for (const char* text : {"", "2011", "2011-01", "2011-001", "2011-02-29", "2011-01-02T24:00:00", "2011-01-02T10:60",
                             "2011-01-02T10:00+24:00", "2011-01-02T", "0000-01-01", " 2011-01-02", "2011-01-02 "}) {
        CAPTURE(text);
        CHECK_FALSE(date_from_isoformat(text));
    }
}

TEST_CASE("every text of the Python 3.11 table is accepted or refused as Python does") {
    std::ifstream in(ALLOCATION_SERVICE_TEST_DATA "/fromisoformat.json");
    REQUIRE(in);
    const auto table = nlohmann::json::parse(in);
    REQUIRE(table.size() >= 4000);
    std::size_t accepted = 0;
    for (const auto& row : table) {
        const auto& text = row[0].get_ref<const std::string&>();
        const auto got = date_from_isoformat(text);
        const std::string expected = row[1].is_null() ? "refused" : row[1].get<std::string>();
        CAPTURE(text);
        CHECK((got ? fmt::format("{}", *got) : "refused") == expected);
        accepted += got ? 1 : 0;
    }
    CHECK(accepted >= 500);  // the table holds accepted texts, not only refusals
}

}  // TEST_SUITE
}  // namespace iso_date_tests
