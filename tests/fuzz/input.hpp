// allocation fuzzing — choices read from the fuzzer's bytes, one byte each; past the end every
// choice is the first one.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_TESTS_FUZZ_INPUT_HPP
#define ALLOCATION_TESTS_FUZZ_INPUT_HPP

#include <cstddef>  // size_t
#include <cstdint>  // uint8_t, int64_t
#include <span>     // span

namespace allocation::fuzz {

class byte_reader {
public:
    explicit byte_reader(std::span<const std::uint8_t> bytes) noexcept : bytes_(bytes) {}

    [[nodiscard]] auto empty() const noexcept -> bool { return next_ >= bytes_.size(); }

    /// A number from 0 to n - 1 (n from 1 to 256).
    auto pick(unsigned n) noexcept -> unsigned {
        if (empty()) return 0;
        return bytes_[next_++] % n;
    }
    /// A number from lo to hi (at most 256 values).
    auto in_range(std::int64_t lo, std::int64_t hi) noexcept -> std::int64_t {
        return lo + static_cast<std::int64_t>(pick(static_cast<unsigned>(hi - lo + 1)));
    }
    auto flag() noexcept -> bool { return pick(2) == 1; }

private:
    std::span<const std::uint8_t> bytes_;
    std::size_t next_ = 0;
};

}  // namespace allocation::fuzz

#endif  // ALLOCATION_TESTS_FUZZ_INPUT_HPP
