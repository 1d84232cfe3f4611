// allocation — detail::id_hash, the hash of identifiers in a product's line table.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_DETAIL_HASH_HPP
#define ALLOCATION_DETAIL_HASH_HPP

#include <cstddef>      // size_t
#include <cstdint>      // uint64_t, uint32_t
#include <concepts>     // convertible_to
#include <cstring>      // memcpy
#include <functional>   // hash
#include <string_view>  // string_view

namespace allocation::detail {

/// The 128-bit product of `a` and `b`, its two halves xor-ed (wyhash's "mum" mixer).
[[nodiscard]] inline auto mum(std::uint64_t a, std::uint64_t b) noexcept -> std::uint64_t {
    __extension__ using u128 = unsigned __int128;
    const auto r = static_cast<u128>(a) * b;
    return static_cast<std::uint64_t>(r) ^ static_cast<std::uint64_t>(r >> 64);
}

/// A 64-bit hash of `text`, inlined: 16 bytes per step, short texts in one step from
/// overlapping loads (the scheme of wyhash). Not for untrusted keys chosen to collide: the
/// seed is fixed.
[[nodiscard]] inline auto hash_bytes(std::string_view text) noexcept -> std::uint64_t {
    constexpr std::uint64_t s0 = 0xa0761d6478bd642fULL;
    constexpr std::uint64_t s1 = 0xe7037ed1a0b428dbULL;
    constexpr std::uint64_t s2 = 0x8ebc6af09c88c6e3ULL;
    const auto* p = text.data();
    const auto n = text.size();
    const auto load64 = [](const char* q) noexcept {
        std::uint64_t v;
        std::memcpy(&v, q, 8);
        return v;
    };
    const auto load32 = [](const char* q) noexcept {
        std::uint32_t v;
        std::memcpy(&v, q, 4);
        return std::uint64_t{v};
    };
    auto seed = s0 ^ mum(n ^ s0, s1);
    std::uint64_t a = 0;
    std::uint64_t b = 0;
    if (n <= 16) {
        if (n >= 8) {
            a = load64(p);
            b = load64(p + n - 8);
        } else if (n >= 4) {
            a = load32(p);
            b = load32(p + n - 4);
        } else if (n > 0) {
            a = (std::uint64_t{static_cast<unsigned char>(p[0])} << 16) |
                (std::uint64_t{static_cast<unsigned char>(p[n / 2])} << 8) |
                std::uint64_t{static_cast<unsigned char>(p[n - 1])};
        }
    } else {
        std::size_t i = 0;
        for (; n - i > 16; i += 16) seed = mum(load64(p + i) ^ s1, load64(p + i + 8) ^ seed);
        a = load64(p + n - 16);
        b = load64(p + n - 8);
    }
    return mum(s1 ^ n, mum(a ^ s1, b ^ seed ^ s2));
}

/// The hash of the line table's keys: hash_bytes() of the text for types with `view()` (the
/// library's identifiers), std::hash for any other key type.
template <class Key>
struct id_hash {
    [[nodiscard]] auto operator()(const Key& key) const noexcept(noexcept(std::hash<Key>{}(key))) -> std::size_t {
        return std::hash<Key>{}(key);
    }
};
template <class Key>
    requires requires(const Key& k) { { k.view() } -> std::convertible_to<std::string_view>; }
struct id_hash<Key> {
    [[nodiscard]] auto operator()(const Key& key) const noexcept -> std::size_t {
        return static_cast<std::size_t>(hash_bytes(key.view()));
    }
};

}  // namespace allocation::detail

#endif  // ALLOCATION_DETAIL_HASH_HPP
