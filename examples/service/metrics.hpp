// allocation-service — metrics in the Prometheus text exposition format (version 0.0.4): HTTP
// requests by route and status, their latency, requests in flight, and values read when scraped.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_SERVICE_METRICS_HPP
#define ALLOCATION_SERVICE_METRICS_HPP

#include <array>        // array
#include <atomic>       // atomic
#include <chrono>       // nanoseconds
#include <cstddef>      // size_t
#include <cstdint>      // uint64_t
#include <functional>   // function
#include <iterator>     // back_inserter
#include <memory>       // unique_ptr
#include <mutex>        // mutex, lock_guard
#include <string>       // string
#include <string_view>  // string_view
#include <utility>      // move
#include <vector>       // vector

#include <fmt/format.h>

namespace allocation::service {

/// The media type of the exposition format.
inline constexpr std::string_view metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

/// Counters and a latency histogram of the HTTP requests answered, per route (the routes'
/// patterns, plus `other` for requests no route took). observe() is lock-free, safe from any
/// thread.
class http_metrics {
public:
    /// Upper bounds of the latency buckets, in seconds.
    static constexpr std::array<double, 14> bounds{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                   0.025,  0.05,    0.1,    0.25,  0.5,   1.0,  5.0};

    explicit http_metrics(std::vector<std::string> routes = {}) { set_routes(std::move(routes)); }

    /// The route labels, by route index; set before the first observe().
    void set_routes(std::vector<std::string> routes) {
        labels_ = std::move(routes);
        labels_.emplace_back("other");
        series_ = std::make_unique<route_series[]>(labels_.size());
    }

    /// The label index of requests no route took.
    [[nodiscard]] auto other() const noexcept -> std::size_t { return labels_.size() - 1; }

    /// Counts an answer of `status` to a request of route `route` that took `took`.
    void observe(std::size_t route, int status, std::chrono::nanoseconds took) noexcept {
        if (route >= labels_.size()) route = other();
        auto& s = series_[route];
        const auto code = status >= 100 && status < 600 ? static_cast<std::size_t>(status) : 0;
        s.by_status[code].fetch_add(1, std::memory_order_relaxed);
        const double seconds = std::chrono::duration<double>(took).count();
        std::size_t b = 0;
        while (b < bounds.size() && seconds > bounds[b]) ++b;
        s.buckets[b].fetch_add(1, std::memory_order_relaxed);
        s.sum_ns.fetch_add(static_cast<std::uint64_t>(took.count() < 0 ? 0 : took.count()), std::memory_order_relaxed);
    }

    /// Appends the HTTP families in the exposition format.
    void append(std::string& out) const {
        out += "# HELP allocation_http_requests_total HTTP requests answered, by route and status.\n"
               "# TYPE allocation_http_requests_total counter\n";
        for (std::size_t r = 0; r < labels_.size(); ++r) {
            for (std::size_t code = 0; code < 600; ++code) {
                const auto n = series_[r].by_status[code].load(std::memory_order_relaxed);
                if (n == 0) continue;
                fmt::format_to(std::back_inserter(out), "allocation_http_requests_total{{route=\"{}\",status=\"{}\"}} {}\n",
                               labels_[r], code, n);
            }
        }
        out += "# HELP allocation_http_request_duration_seconds Time from a request read to its answer, by route.\n"
               "# TYPE allocation_http_request_duration_seconds histogram\n";
        for (std::size_t r = 0; r < labels_.size(); ++r) {
            const auto& s = series_[r];
            std::uint64_t cumulative = 0;
            for (std::size_t b = 0; b <= bounds.size(); ++b) {
                cumulative += s.buckets[b].load(std::memory_order_relaxed);
                const auto le = b < bounds.size() ? fmt::format("{}", bounds[b]) : std::string("+Inf");
                fmt::format_to(std::back_inserter(out), "allocation_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n",
                               labels_[r], le, cumulative);
            }
            fmt::format_to(std::back_inserter(out), "allocation_http_request_duration_seconds_sum{{route=\"{}\"}} {}\n",
                           labels_[r], static_cast<double>(s.sum_ns.load(std::memory_order_relaxed)) / 1e9);
            fmt::format_to(std::back_inserter(out), "allocation_http_request_duration_seconds_count{{route=\"{}\"}} {}\n",
                           labels_[r], cumulative);
        }
    }

private:
    struct route_series {
        std::array<std::atomic<std::uint64_t>, 600> by_status{};  // [0]: a status out of range
        std::array<std::atomic<std::uint64_t>, bounds.size() + 1> buckets{};
        std::atomic<std::uint64_t> sum_ns{0};
    };

    std::vector<std::string> labels_;
    std::unique_ptr<route_series[]> series_;
};

/// Every metric of the service: the HTTP ones and families whose values are read when
/// scraped (gauges and counters kept elsewhere: the store's commits, the outbox, Redis).
class metrics_registry {
public:
    metrics_registry() = default;

    [[nodiscard]] auto http() noexcept -> http_metrics& { return http_; }

    /// Adds the series `name{labels}` (labels as `key="value",...`, or empty) of a family of
    /// `type` (counter or gauge), read by `value` at each scrape. Thread-safe.
    void add(std::string name, std::string_view type, std::string help, std::string labels, std::function<double()> value) {
        const std::lock_guard lock(mutex_);
        for (auto& f : families_) {
            if (f.name == name) {
                f.series.push_back({std::move(labels), std::move(value)});
                return;
            }
        }
        families_.push_back({std::move(name), std::string(type), std::move(help), {{std::move(labels), std::move(value)}}});
    }

    /// The exposition text of every metric.
    [[nodiscard]] auto text() const -> std::string {
        std::string out;
        out.reserve(16 * 1024);
        http_.append(out);
        const std::lock_guard lock(mutex_);
        for (const auto& f : families_) {
            fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", f.name, f.help, f.name, f.type);
            for (const auto& s : f.series) {
                const double v = s.value();
                if (s.labels.empty()) {
                    fmt::format_to(std::back_inserter(out), "{} {}\n", f.name, v);
                } else {
                    fmt::format_to(std::back_inserter(out), "{}{{{}}} {}\n", f.name, s.labels, v);
                }
            }
        }
        return out;
    }

private:
    struct series_entry {
        std::string labels;
        std::function<double()> value;
    };
    struct family {
        std::string name;
        std::string type;
        std::string help;
        std::vector<series_entry> series;
    };

    http_metrics http_;
    mutable std::mutex mutex_;
    std::vector<family> families_;
};

}  // namespace allocation::service

#endif  // ALLOCATION_SERVICE_METRICS_HPP
