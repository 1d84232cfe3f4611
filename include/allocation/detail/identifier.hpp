// allocation — detail::is_valid_identifier_fast, identifier validation with an ASCII fast path.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_DETAIL_IDENTIFIER_HPP
#define ALLOCATION_DETAIL_IDENTIFIER_HPP

#include <cstdint>      // uint64_t
#include <cstring>      // memcpy
#include <string_view>  // string_view

#include <allocation/domain/types.hpp>

namespace allocation::detail {

/// Whether none of the 8 bytes of `w` is outside printable ASCII: no byte with its high bit set
/// (the start of a multi-byte UTF-8 sequence), below 0x20 or equal to 0x7f (control
/// characters). The "has less / has zero" byte tests of Bit Twiddling Hacks: the overall answer
/// is exact, although single bytes may be misflagged after a borrow.
[[nodiscard]] constexpr auto printable_ascii8(std::uint64_t w) noexcept -> bool {
    constexpr std::uint64_t ones = 0x0101010101010101ULL;
    constexpr std::uint64_t highs = 0x8080808080808080ULL;
    const auto below_space = (w - ones * 0x20) & ~w;
    const auto del = w ^ (ones * 0x7f);
    const auto is_del = (del - ones) & ~del;
    return ((w | below_space | is_del) & highs) == 0;
}

/// The same answer as is_valid_identifier(text), 8 bytes at a time while the text is printable
/// ASCII (order ids, SKUs and batch references usually are); any other byte hands the whole
/// text to is_valid_identifier(). Short tails are read as overlapping words, not byte by byte.
[[nodiscard]] inline auto is_valid_identifier_fast(std::string_view text) noexcept -> bool {
    const auto n = text.size();
    if (n == 0 || n > 255) return false;
    const char* p = text.data();
    bool ascii = true;
    if (n >= 8) {
        std::uint64_t w;
        for (std::size_t i = 0; i + 8 < n; i += 8) {
            std::memcpy(&w, p + i, 8);
            ascii = ascii && printable_ascii8(w);
        }
        std::memcpy(&w, p + n - 8, 8);  // the last 8 bytes, overlapping the words before
        ascii = ascii && printable_ascii8(w);
    } else if (n >= 4) {
        std::uint32_t a;
        std::uint32_t b;
        std::memcpy(&a, p, 4);
        std::memcpy(&b, p + n - 4, 4);
        ascii = printable_ascii8(a | (std::uint64_t{b} << 32));
    } else {
        for (std::size_t i = 0; i < n; ++i) {
            ascii = ascii && static_cast<unsigned char>(static_cast<unsigned char>(p[i]) - 0x20U) < 0x5fU;
        }
    }
    return ascii || is_valid_identifier(text);
}

}  // namespace allocation::detail

#endif  // ALLOCATION_DETAIL_IDENTIFIER_HPP
