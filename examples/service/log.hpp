// allocation-service — one line per message on stderr, whole lines even from many threads,
// written in batches by a background thread so that request threads never wait for stderr.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_SERVICE_LOG_HPP
#define ALLOCATION_SERVICE_LOG_HPP

#include <chrono>              // system_clock, milliseconds
#include <condition_variable>  // condition_variable
#include <cstdio>              // fwrite, fflush, stderr
#include <mutex>               // mutex, lock_guard, unique_lock
#include <string>              // string
#include <string_view>         // string_view
#include <thread>              // thread
#include <utility>             // forward, swap

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace allocation::service {

namespace detail {

/// Collects log lines and writes them to stderr from its own thread, at most `delay` after
/// they were logged (sooner when 64 kB are waiting), in one write per batch. Flushed when the
/// program exits normally; a killed process loses at most the last `delay` of lines.
class log_writer {
public:
    log_writer() : thread_([this] { run(); }) {}
    log_writer(const log_writer&) = delete;
    auto operator=(const log_writer&) -> log_writer& = delete;
    ~log_writer() {
        {
            const std::lock_guard lock(mutex_);
            stop_ = true;
        }
        wake_.notify_one();
        thread_.join();
    }

    void write(std::string_view line) {
        bool full = false;
        {
            const std::lock_guard lock(mutex_);
            pending_.append(line);
            full = pending_.size() >= 64 * 1024;
        }
        if (full) wake_.notify_one();
    }

private:
    static constexpr std::chrono::milliseconds delay{5};

    void run() {
        std::string out;
        std::unique_lock lock(mutex_);
        for (;;) {
            wake_.wait_for(lock, delay, [&] { return stop_ || pending_.size() >= 64 * 1024; });
            std::swap(out, pending_);
            const bool stopping = stop_;
            lock.unlock();
            if (!out.empty()) {
                std::fwrite(out.data(), 1, out.size(), stderr);
                std::fflush(stderr);
                out.clear();
            }
            if (stopping) return;
            lock.lock();
        }
    }

    std::mutex mutex_;
    std::condition_variable wake_;
    std::string pending_;
    bool stop_ = false;
    std::thread thread_;  // last: started once everything above exists
};

inline auto log_sink() -> log_writer& {
    static log_writer writer;
    return writer;
}

}  // namespace detail

/// Logs `2024-05-01T10:00:00.123Z <text>` and a newline on stderr.
inline void log_line(std::string_view text) {
    const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    const auto seconds = std::chrono::time_point_cast<std::chrono::seconds>(now);
    const auto millis = (now - seconds).count();
    // Formatting the date is the slow part: each thread keeps the last second it formatted.
    thread_local std::chrono::sys_seconds last_second{};
    thread_local std::string second_text;
    if (seconds != last_second || second_text.empty()) {
        second_text = fmt::format("{:%Y-%m-%dT%H:%M:%S}", seconds);
        last_second = seconds;
    }
    detail::log_sink().write(fmt::format("{}.{:03}Z {}\n", second_text, millis, text));
}

/// log_line(fmt::format(...)).
template <class... Args>
void log(fmt::format_string<Args...> format, Args&&... args) {
    log_line(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace allocation::service

#endif  // ALLOCATION_SERVICE_LOG_HPP
