// allocation — must not compile: traits whose quantity type fmt cannot format.
// SPDX-License-Identifier: MIT
// expect-error: quantity_type needs a fmt::formatter
#include "compile_fail/hand_written_ids.hpp"

#include <cstdint>

namespace {
struct grams {
    std::int64_t value{};
    friend auto operator==(grams, grams) -> bool = default;
    friend auto operator<=>(grams, grams) = default;
    friend auto operator+(grams a, grams b) -> grams { return {a.value + b.value}; }
    friend auto operator-(grams a, grams b) -> grams { return {a.value - b.value}; }
    auto operator+=(grams o) -> grams& { value += o.value; return *this; }
    auto operator-=(grams o) -> grams& { value -= o.value; return *this; }
};
}  // namespace

int main() { compile_fail::make_product<compile_fail::traits<std::int64_t, std::int64_t, std::int64_t, grams>>(); }
