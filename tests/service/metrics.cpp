// Tests of examples/service/metrics.hpp: the Prometheus text exposition of the service's metrics.
// SPDX-License-Identifier: MIT
#include "metrics.hpp"

#include <chrono>
#include <string>

#include <doctest/doctest.h>

namespace metrics_tests {

using namespace allocation::service;
using namespace std::chrono_literals;

TEST_SUITE("service") {

TEST_CASE("requests are counted by route and status, with a cumulative latency histogram") {
    metrics_registry m;
    m.http().set_routes({"/allocate", "/health"});
    m.http().observe(0, 202, 200us);
    m.http().observe(0, 202, 3ms);
    m.http().observe(0, 409, 1ms);
    m.http().observe(m.http().other(), 404, 10us);
    const auto text = m.text();
    CHECK(text.find("# TYPE allocation_http_requests_total counter\n") != std::string::npos);
    CHECK(text.find("allocation_http_requests_total{route=\"/allocate\",status=\"202\"} 2\n") != std::string::npos);
    CHECK(text.find("allocation_http_requests_total{route=\"/allocate\",status=\"409\"} 1\n") != std::string::npos);
    CHECK(text.find("allocation_http_requests_total{route=\"other\",status=\"404\"} 1\n") != std::string::npos);
    CHECK(text.find("route=\"/health\",status=") == std::string::npos);
    CHECK(text.find("# TYPE allocation_http_request_duration_seconds histogram\n") != std::string::npos);
    CHECK(text.find("allocation_http_request_duration_seconds_bucket{route=\"/allocate\",le=\"0.00025\"} 1\n") != std::string::npos);
    CHECK(text.find("allocation_http_request_duration_seconds_bucket{route=\"/allocate\",le=\"0.001\"} 2\n") != std::string::npos);
    CHECK(text.find("allocation_http_request_duration_seconds_bucket{route=\"/allocate\",le=\"+Inf\"} 3\n") != std::string::npos);
    CHECK(text.find("allocation_http_request_duration_seconds_count{route=\"/allocate\"} 3\n") != std::string::npos);
    CHECK(text.find("allocation_http_request_duration_seconds_sum{route=\"/allocate\"} 0.0042\n") != std::string::npos);
}

TEST_CASE("families read at scrape time are written once with each of their series") {
    metrics_registry m;
    int pending = 3;
    m.add("allocation_outbox_pending", "gauge", "Events waiting.", "", [&] { return pending; });
    m.add("allocation_redis_connected", "gauge", "Connected.", R"(client="relay")", [] { return 1.0; });
    m.add("allocation_redis_connected", "gauge", "Connected.", R"(client="subscriber")", [] { return 0.0; });
    pending = 5;
    const auto text = m.text();
    CHECK(text.find("# HELP allocation_outbox_pending Events waiting.\n# TYPE allocation_outbox_pending gauge\n"
                    "allocation_outbox_pending 5\n") != std::string::npos);
    CHECK(text.find("# TYPE allocation_redis_connected gauge\nallocation_redis_connected{client=\"relay\"} 1\n"
                    "allocation_redis_connected{client=\"subscriber\"} 0\n") != std::string::npos);
}

}  // TEST_SUITE
}  // namespace metrics_tests
