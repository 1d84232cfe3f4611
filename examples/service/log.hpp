// allocation-service — one line per message on stderr, whole lines even from many threads.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_SERVICE_LOG_HPP
#define ALLOCATION_SERVICE_LOG_HPP

#include <chrono>       // system_clock
#include <cstdio>       // fwrite, stderr
#include <mutex>        // mutex, lock_guard
#include <string>       // string
#include <string_view>  // string_view
#include <utility>      // forward

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace allocation::service {

/// Writes `2024-05-01T10:00:00.123Z <text>` and a newline to stderr as one write.
inline void log_line(std::string_view text) {
    static std::mutex mutex;
    const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    const auto seconds = std::chrono::time_point_cast<std::chrono::seconds>(now);
    const auto millis = (now - seconds).count();
    auto line = fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z {}\n", seconds, millis, text);
    const std::lock_guard lock(mutex);
    std::fwrite(line.data(), 1, line.size(), stderr);
}

/// log_line(fmt::format(...)).
template <class... Args>
void log(fmt::format_string<Args...> format, Args&&... args) {
    log_line(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace allocation::service

#endif  // ALLOCATION_SERVICE_LOG_HPP
