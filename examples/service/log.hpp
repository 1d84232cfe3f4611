// allocation-service — one line per message on stderr (text, or one JSON object per line),
// whole lines even from many threads, written in batches by a background thread so that
// request threads never wait for stderr.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_SERVICE_LOG_HPP
#define ALLOCATION_SERVICE_LOG_HPP

#include <atomic>              // atomic
#include <chrono>              // system_clock, milliseconds, nanoseconds
#include <cstddef>             // size_t
#include <condition_variable>  // condition_variable
#include <cstdio>              // fwrite, fflush, stderr
#include <mutex>               // mutex, lock_guard, unique_lock
#include <string>              // string
#include <string_view>         // string_view
#include <thread>              // thread
#include <iterator>            // back_inserter
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

/// How log lines are written: `<time> <text>`, or one JSON object per line.
enum class log_format { text, json_lines };

namespace detail {

inline auto log_format_setting() noexcept -> std::atomic<log_format>& {
    static std::atomic<log_format> format{log_format::text};
    return format;
}

/// The time of a log line, `2024-05-01T10:00:00.123Z`.
inline auto log_time() -> std::string {
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
    return fmt::format("{}.{:03}Z", second_text, millis);
}

/// Appends `text` as a JSON string; bytes that are not UTF-8 become U+FFFD.
inline void append_json_string(std::string& out, std::string_view text) {
    out += '"';
    for (std::size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x80) {
            if (c == '"' || c == '\\') {
                out += '\\';
                out += static_cast<char>(c);
            } else if (c < 0x20 || c == 0x7f) {
                fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
            } else {
                out += static_cast<char>(c);
            }
            ++i;
            continue;
        }
        const std::size_t n = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
        bool ok = n > 0 && i + n <= text.size();
        for (std::size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(text[i + k]) & 0xc0) == 0x80;
        if (ok) {
            out.append(text.substr(i, n));
            i += n;
        } else {
            out += "\xef\xbf\xbd";
            ++i;
        }
    }
    out += '"';
}

}  // namespace detail

/// Chooses how every later line is written.
inline void set_log_format(log_format f) noexcept { detail::log_format_setting().store(f); }

/// Logs `text` on stderr: `2024-05-01T10:00:00.123Z <text>`, or
/// `{"time":"2024-05-01T10:00:00.123Z","message":"<text>"}`.
inline void log_line(std::string_view text) {
    std::string line = detail::log_time();
    if (detail::log_format_setting().load(std::memory_order_relaxed) == log_format::json_lines) {
        std::string object = R"({"time":")" + line + R"(","message":)";
        detail::append_json_string(object, text);
        object += "}\n";
        detail::log_sink().write(object);
        return;
    }
    line += ' ';
    line += text;
    line += '\n';
    detail::log_sink().write(line);
}

/// log_line(fmt::format(...)).
template <class... Args>
void log(fmt::format_string<Args...> format, Args&&... args) {
    log_line(fmt::format(format, std::forward<Args>(args)...));
}

/// Logs one answered request: `<remote> "<method> <path>" <status> <bytes>B <ms>ms`, or in JSON
/// `{"time", "remote", "method", "path", "status", "bytes", "duration_ms"}`.
inline void log_request(std::string_view remote, std::string_view method, std::string_view path, int status,
                        std::size_t bytes, std::chrono::nanoseconds took) {
    const double ms = std::chrono::duration<double, std::milli>(took).count();
    if (detail::log_format_setting().load(std::memory_order_relaxed) != log_format::json_lines) {
        log("{} \"{} {}\" {} {}B {:.2f}ms", remote, method, path, status, bytes, ms);
        return;
    }
    std::string object = R"({"time":")" + detail::log_time() + R"(","remote":)";
    detail::append_json_string(object, remote);
    object += R"(,"method":)";
    detail::append_json_string(object, method);
    object += R"(,"path":)";
    detail::append_json_string(object, path);
    fmt::format_to(std::back_inserter(object), R"(,"status":{},"bytes":{},"duration_ms":{:.3f}}})", status, bytes, ms);
    object += '\n';
    detail::log_sink().write(object);
}

}  // namespace allocation::service

#endif  // ALLOCATION_SERVICE_LOG_HPP
