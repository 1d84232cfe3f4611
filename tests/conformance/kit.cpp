// allocation tests — the conformance kit fails stores that break the ports' promises, each
// broken store by the check written for its defect, and passes one that keeps them.
// SPDX-License-Identifier: MIT
#include <allocation/testing/conformance.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "conformance/broken_store.hpp"

using namespace allocation::testing;

namespace {

// The names of the kit's checks a store of defect D fails.
template <broken::defect D>
auto failed_checks() -> std::vector<std::string> {
    std::vector<std::string> out;
    for (const auto& c : checks<broken::harness<D>>::all()) {
        broken::harness<D> h;
        if (!c.run(h).passed()) out.emplace_back(c.name);
    }
    return out;
}

auto contains(const std::vector<std::string>& names, const std::string& name) -> bool {
    return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

TEST_SUITE("conformance") {

TEST_CASE("the kit passes a store of copies that keeps every promise") {
    CHECK(failed_checks<broken::defect::none>().empty());
}

TEST_CASE("the kit fails a store without a version check") {
    const auto failed = failed_checks<broken::defect::no_version_check>();
    CHECK(contains(failed, "serialises two writers of one product"));
    CHECK(contains(failed, "checks the version of products only read"));
}

TEST_CASE("the kit fails a store that does not index a batch added to an existing product") {
    const auto failed = failed_checks<broken::defect::batch_not_indexed>();
    CHECK(contains(failed, "finds a batch added to an existing product"));
}

TEST_CASE("the kit fails a store that lets two creators of one new SKU both commit") {
    const auto failed = failed_checks<broken::defect::both_creators_commit>();
    CHECK(contains(failed, "keeps one of two creators of a SKU"));
}

TEST_CASE("the kit fails a store that does not collect events") {
    const auto failed = failed_checks<broken::defect::events_not_collected>();
    CHECK(contains(failed, "collects events once, after commit"));
    CHECK(contains(failed, "collects events of unchanged products"));
}

TEST_CASE("the kit fails a store whose rollback does not restore") {
    const auto failed = failed_checks<broken::defect::rollback_not_restoring>();
    CHECK(contains(failed, "starts afresh after a rollback"));
}

}  // TEST_SUITE
