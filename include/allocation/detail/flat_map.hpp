// allocation — detail::flat_map, the open-addressing hash map behind a product's line table.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_DETAIL_FLAT_MAP_HPP
#define ALLOCATION_DETAIL_FLAT_MAP_HPP

#include <algorithm>    // max
#include <bit>          // bit_width
#include <cstddef>      // size_t, ptrdiff_t
#include <cstdint>      // uint32_t, uint64_t
#include <functional>   // hash, equal_to
#include <tuple>        // forward_as_tuple
#include <utility>      // pair, piecewise_construct, move, exchange
#include <vector>       // vector

namespace allocation::detail {

/// A hash map with its values in one dense array and an open-addressing index of buckets over
/// it (Robin Hood linear probing, backward-shift deletion), the layout of
/// martinus/unordered_dense.
///
/// Each bucket holds the probe distance and an 8-bit fragment of the key's hash in one 32-bit
/// word, and the position of its value: a lookup reads consecutive buckets and compares a key
/// only when the fragment matches; an insertion appends to the value array (no allocation per
/// element); an erasure moves the last value into the hole. Iteration walks the value array:
/// it yields `std::pair<Key, T>` in no particular order.
///
/// The value array is reserved with the index (for as many values as the index takes before it
/// grows), so an insertion that does not grow the index never moves a value; a copy keeps both
/// sizes. At most 2^32 - 1 elements. Invalidation: an insertion may invalidate every iterator and reference; an erasure
/// invalidates those to the erased element and to the last one. Exception safety: basic (a
/// throwing key or value constructor leaves a valid map, possibly with the element missing).
///
/// @tparam Key the key type; `Hash` and `KeyEqual` must be callable on it.
/// @tparam T the mapped type.
template <class Key, class T, class Hash = std::hash<Key>, class KeyEqual = std::equal_to<Key>>
class flat_map {
public:
    using key_type = Key;
    using mapped_type = T;
    using value_type = std::pair<Key, T>;
    using size_type = std::size_t;
    using difference_type = std::ptrdiff_t;
    using hasher = Hash;
    using key_equal = KeyEqual;
    using reference = value_type&;
    using const_reference = const value_type&;
    using iterator = value_type*;
    using const_iterator = const value_type*;

    flat_map() = default;
    /// A copy with the same index size and value capacity as `other`.
    flat_map(const flat_map& other)
        : buckets_(other.buckets_),
          shift_(other.shift_),
          max_values_(other.max_values_),
          hash_(other.hash_),
          equal_(other.equal_) {
        values_.reserve(max_values_);
        values_.insert(values_.end(), other.values_.begin(), other.values_.end());
    }
    flat_map(flat_map&& other) noexcept
        : values_(std::move(other.values_)),
          buckets_(std::move(other.buckets_)),
          shift_(std::exchange(other.shift_, initial_shift)),
          max_values_(std::exchange(other.max_values_, 0)),
          hash_(std::move(other.hash_)),
          equal_(std::move(other.equal_)) {
        other.values_.clear();
        other.buckets_.clear();
    }
    auto operator=(const flat_map& other) -> flat_map& {
        if (this != &other) *this = flat_map(other);
        return *this;
    }
    auto operator=(flat_map&& other) noexcept -> flat_map& {
        if (this != &other) {
            values_ = std::move(other.values_);
            buckets_ = std::move(other.buckets_);
            shift_ = std::exchange(other.shift_, initial_shift);
            max_values_ = std::exchange(other.max_values_, 0);
            hash_ = std::move(other.hash_);
            equal_ = std::move(other.equal_);
            other.values_.clear();
            other.buckets_.clear();
        }
        return *this;
    }
    ~flat_map() = default;

    // -- iteration and size ----------------------------------------------------------------

    [[nodiscard]] auto begin() noexcept -> iterator { return values_.data(); }
    [[nodiscard]] auto end() noexcept -> iterator { return values_.data() + values_.size(); }
    [[nodiscard]] auto begin() const noexcept -> const_iterator { return values_.data(); }
    [[nodiscard]] auto end() const noexcept -> const_iterator { return values_.data() + values_.size(); }
    [[nodiscard]] auto cbegin() const noexcept -> const_iterator { return begin(); }
    [[nodiscard]] auto cend() const noexcept -> const_iterator { return end(); }
    [[nodiscard]] auto size() const noexcept -> size_type { return values_.size(); }
    [[nodiscard]] auto empty() const noexcept -> bool { return values_.empty(); }
    /// Buckets in the index (0 until the first insertion or reserve()).
    [[nodiscard]] auto bucket_count() const noexcept -> size_type { return buckets_.size(); }

    // -- lookup -------------------------------------------------------------------------------

    /// The element with key `key`, or end(). O(1) expected.
    [[nodiscard]] auto find(const Key& key) -> iterator {
        const auto b = find_bucket(key);
        return b == npos ? end() : values_.data() + buckets_[b].index;
    }
    [[nodiscard]] auto find(const Key& key) const -> const_iterator {
        const auto b = find_bucket(key);
        return b == npos ? end() : values_.data() + buckets_[b].index;
    }
    [[nodiscard]] auto contains(const Key& key) const -> bool { return find_bucket(key) != npos; }
    [[nodiscard]] auto count(const Key& key) const -> size_type { return contains(key) ? 1 : 0; }

    // -- insertion ----------------------------------------------------------------------------

    /// Inserts `key` with a value built from `args` unless the key is present; returns the
    /// element and whether it was inserted. One hash of the key either way.
    template <class... Args>
    auto try_emplace(const Key& key, Args&&... args) -> std::pair<iterator, bool> {
        return emplace_key(key, std::forward<Args>(args)...);
    }
    template <class... Args>
    auto try_emplace(Key&& key, Args&&... args) -> std::pair<iterator, bool> {
        return emplace_key(std::move(key), std::forward<Args>(args)...);
    }
    /// The value of `key`, value-initialized first if absent.
    auto operator[](const Key& key) -> T& { return try_emplace(key).first->second; }
    auto operator[](Key&& key) -> T& { return try_emplace(std::move(key)).first->second; }

    /// Makes room for `n` elements without growing the index or the value array.
    void reserve(size_type n) {
        if (n > max_values_) rehash(buckets_for(n));
    }

    // -- erasure ------------------------------------------------------------------------------

    /// Erases the element at `pos` (the last element moves into its place); returns the
    /// iterator to the element now at that place, or end().
    auto erase(const_iterator pos) -> iterator {
        const auto index = static_cast<std::uint32_t>(pos - values_.data());
        erase_bucket(bucket_of(index));
        return values_.data() + index;
    }
    /// Erases the element with key `key`; returns how many were erased (0 or 1).
    auto erase(const Key& key) -> size_type {
        const auto b = find_bucket(key);
        if (b == npos) return 0;
        erase_bucket(b);
        return 1;
    }
    /// Erases every element; keeps the capacity.
    void clear() noexcept {
        values_.clear();
        for (auto& b : buckets_) b = bucket{};
    }

private:
    // A bucket: (probe distance + 1) in the high 24 bits and a hash fragment in the low 8, 0 when
    // empty, so one comparison tells "same distance and fragment" and a smaller word ends a
    // probe (Robin Hood: no element further along can have a longer distance than the probe).
    struct bucket {
        std::uint32_t dist_fragment = 0;
        std::uint32_t index = 0;
    };
    static constexpr std::uint32_t dist_one = 1U << 8;
    static constexpr std::uint32_t fragment_mask = dist_one - 1;
    static constexpr std::size_t npos = ~std::size_t{0};
    static constexpr std::uint8_t initial_shift = 64;
    static constexpr std::size_t min_buckets = 8;
    // Maximum load factor 13/16: short probes with little memory.
    static constexpr std::size_t load_num = 13;
    static constexpr std::size_t load_den = 16;

    [[nodiscard]] auto mixed_hash(const Key& key) const -> std::uint64_t {
        // Multiplicative mixing on top of the user's hash: identity hashes of integers spread
        // too, since the bucket comes from the high bits.
        return static_cast<std::uint64_t>(hash_(key)) * 0x9e3779b97f4a7c15ULL;
    }
    [[nodiscard]] auto home(std::uint64_t h) const noexcept -> std::size_t {
        return static_cast<std::size_t>(h >> shift_);
    }
    [[nodiscard]] static auto first_word(std::uint64_t h) noexcept -> std::uint32_t {
        return dist_one | (static_cast<std::uint32_t>(h) & fragment_mask);
    }
    [[nodiscard]] auto next(std::size_t b) const noexcept -> std::size_t { return (b + 1) & (buckets_.size() - 1); }

    [[nodiscard]] auto find_bucket(const Key& key) const -> std::size_t {
        if (values_.empty()) return npos;
        const auto h = mixed_hash(key);
        auto word = first_word(h);
        auto b = home(h);
        for (;;) {
            const auto& at = buckets_[b];
            if (at.dist_fragment == word && equal_(key, values_[at.index].first)) return b;
            if (at.dist_fragment < word) return npos;
            word += dist_one;
            b = next(b);
        }
    }

    // The bucket that points at values_[index] (it exists).
    [[nodiscard]] auto bucket_of(std::uint32_t index) const -> std::size_t {
        auto b = home(mixed_hash(values_[index].first));
        while (buckets_[b].index != index || buckets_[b].dist_fragment == 0) b = next(b);
        return b;
    }

    template <class K, class... Args>
    auto emplace_key(K&& key, Args&&... args) -> std::pair<iterator, bool> {
        if (buckets_.empty()) rehash(min_buckets);
        const auto h = mixed_hash(key);
        auto word = first_word(h);
        auto b = home(h);
        while (word <= buckets_[b].dist_fragment) {
            const auto& at = buckets_[b];
            if (at.dist_fragment == word && equal_(key, values_[at.index].first)) {
                return {values_.data() + at.index, false};
            }
            word += dist_one;
            b = next(b);
        }
        if (values_.size() >= max_values_) {
            rehash(buckets_.size() * 2);
            word = first_word(h);
            b = home(h);
            while (word <= buckets_[b].dist_fragment) {
                word += dist_one;
                b = next(b);
            }
        }
        if (values_.size() == values_.capacity()) grow_values(max_values_);
        const auto index = static_cast<std::uint32_t>(values_.size());
        values_.emplace_back(std::piecewise_construct, std::forward_as_tuple(std::forward<K>(key)),
                             std::forward_as_tuple(std::forward<Args>(args)...));
        place(bucket{word, index}, b);
        return {values_.data() + index, true};
    }

    // Puts `carried` at bucket b, shifting the following run one bucket up.
    void place(bucket carried, std::size_t b) noexcept {
        while (buckets_[b].dist_fragment != 0) {
            carried = std::exchange(buckets_[b], carried);
            carried.dist_fragment += dist_one;
            b = next(b);
        }
        buckets_[b] = carried;
    }

    // Erases the element of bucket b: its bucket, then its value (the last value fills the hole).
    void erase_bucket(std::size_t b) {
        const auto index = buckets_[b].index;
        remove_bucket(b);
        const auto last = static_cast<std::uint32_t>(values_.size() - 1);
        if (index != last) {
            buckets_[bucket_of(last)].index = index;
            values_[index] = std::move(values_[last]);
        }
        values_.pop_back();
    }

    // Empties bucket b, shifting the following displaced run one bucket down.
    void remove_bucket(std::size_t b) noexcept {
        auto n = next(b);
        while (buckets_[n].dist_fragment >= 2 * dist_one) {
            buckets_[b] = bucket{buckets_[n].dist_fragment - dist_one, buckets_[n].index};
            b = n;
            n = next(n);
        }
        buckets_[b] = bucket{};
    }

    [[nodiscard]] static auto buckets_for(size_type n) noexcept -> size_type {
        auto count = min_buckets;
        while (count * load_num / load_den < n) count *= 2;
        return count;
    }

    // A new index of `count` buckets (a power of two) over the current values.
    void rehash(size_type count) {
        buckets_.assign(count, bucket{});
        shift_ = static_cast<std::uint8_t>(64 - (std::bit_width(count) - 1));
        max_values_ = count * load_num / load_den;
        if (values_.capacity() < max_values_) grow_values(max_values_);
        for (std::uint32_t i = 0; i < values_.size(); ++i) {
            const auto h = mixed_hash(values_[i].first);
            auto word = first_word(h);
            auto b = home(h);
            while (word <= buckets_[b].dist_fragment) {
                word += dist_one;
                b = next(b);
            }
            place(bucket{word, i}, b);
        }
    }

    // Moves the values to an array of capacity `n` (at least their number); moves even when the move constructor may
    // throw (std::vector would copy), since a line record's small_vector does not say noexcept.
    void grow_values(size_type n) {
        std::vector<value_type> bigger;
        bigger.reserve(std::max(n, values_.size()));
        for (auto& v : values_) bigger.emplace_back(std::move(v));
        values_.swap(bigger);
    }

    std::vector<value_type> values_;
    std::vector<bucket> buckets_;
    std::uint8_t shift_ = initial_shift;
    size_type max_values_ = 0;
    [[no_unique_address]] Hash hash_{};
    [[no_unique_address]] KeyEqual equal_{};
};

}  // namespace allocation::detail

#endif  // ALLOCATION_DETAIL_FLAT_MAP_HPP
