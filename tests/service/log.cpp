// Tests of examples/service/log.hpp: log lines as JSON objects.
// SPDX-License-Identifier: MIT
#include "log.hpp"

#include <string>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

namespace log_tests {

using namespace allocation::service;

TEST_SUITE("service") {

TEST_CASE("a JSON log string is valid JSON for any bytes: quotes, control bytes and non-UTF-8 escaped or replaced") {
    const std::string text = std::string("a\"b\\c\n\x01\x7f \xc3\xa9 \xff\xfe end") + '\0';
    std::string out;
    detail::append_json_string(out, text);
    const auto parsed = nlohmann::json::parse(out, nullptr, false);
    REQUIRE_FALSE(parsed.is_discarded());
    REQUIRE(parsed.is_string());
    CHECK(parsed.get<std::string>() == std::string("a\"b\\c\n\x01\x7f \xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd end") + '\0');
}

}  // TEST_SUITE
}  // namespace log_tests
