// allocation tests — the adapter conformance kit run on the in-memory store.
// SPDX-License-Identifier: MIT
#include <chrono>  // milliseconds
#include <memory>  // unique_ptr, make_unique

#include <doctest/doctest.h>

#include <allocation/adapters/memory/unit_of_work.hpp>
#include <allocation/testing/conformance.hpp>

namespace {

// Fresh in-memory stores whose units of work fail at once on a held product.
struct memory_harness {
    using store_type = allocation::memory::store;
    auto make() -> std::unique_ptr<store_type> { return std::make_unique<store_type>(std::chrono::milliseconds{0}); }
};

}  // namespace

TEST_SUITE_BEGIN("memory");
TEST_CASE_TEMPLATE_INVOKE(allocation_repository_conformance, memory_harness);
TEST_CASE_TEMPLATE_INVOKE(allocation_unit_of_work_conformance, memory_harness);
TEST_CASE_TEMPLATE_INVOKE(allocation_idempotency_conformance, memory_harness);
TEST_CASE_TEMPLATE_INVOKE(allocation_concurrency_conformance, memory_harness);
TEST_CASE_TEMPLATE_INVOKE(allocation_reader_conformance, memory_harness);
TEST_CASE_TEMPLATE_INVOKE(allocation_holds_conformance, memory_harness);
TEST_CASE_TEMPLATE_INVOKE(allocation_backorders_conformance, memory_harness);
TEST_SUITE_END();
