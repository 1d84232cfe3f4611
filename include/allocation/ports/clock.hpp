// allocation — the Clock port: what time it is, for holds and their deadlines.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_PORTS_CLOCK_HPP
#define ALLOCATION_PORTS_CLOCK_HPP

#include <atomic>    // atomic
#include <chrono>    // system_clock, floor, milliseconds
#include <concepts>  // convertible_to
#include <memory>    // shared_ptr, make_shared

#include <allocation/domain/types.hpp>

namespace allocation {

/// `c.now()` says what time it is (a timestamp, UTC to the millisecond). The domain takes the
/// time as a parameter; the message bus asks its clock (bootstrap's with_clock) for it.
template <class C>
concept tells_time = requires(const C& c) {
    { c.now() } -> std::convertible_to<timestamp>;
};

/// The time from std::chrono::system_clock.
struct system_clock {
    [[nodiscard]] auto now() const -> timestamp {
        return std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
    }
};

/// A clock that says the time it was set to, for tests and simulations: time moves only when
/// set() or advance() move it. Copies share the time. Thread-safe.
class manual_clock {
public:
    /// A clock at 1970-01-01T00:00:00Z.
    manual_clock() : ms_(std::make_shared<std::atomic<std::int64_t>>(0)) {}
    explicit manual_clock(timestamp t) : manual_clock() { set(t); }

    [[nodiscard]] auto now() const noexcept -> timestamp {
        return timestamp{std::chrono::milliseconds{ms_->load(std::memory_order_acquire)}};
    }
    void set(timestamp t) noexcept { ms_->store(t.time_since_epoch().count(), std::memory_order_release); }
    /// Moves the time forward by `d`.
    void advance(std::chrono::milliseconds d) noexcept { ms_->fetch_add(d.count(), std::memory_order_acq_rel); }

private:
    std::shared_ptr<std::atomic<std::int64_t>> ms_;
};

static_assert(tells_time<system_clock>);
static_assert(tells_time<manual_clock>);

}  // namespace allocation

#endif  // ALLOCATION_PORTS_CLOCK_HPP
