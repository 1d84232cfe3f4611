// allocation — must not compile: traits whose SKU type cannot be default-constructed.
// SPDX-License-Identifier: MIT
// expect-error: sku_type must be default-constructible
#include "compile_fail/hand_written_ids.hpp"

namespace {
struct code {
    explicit code(int v) : n(v) {}
    int n;
    friend auto operator==(const code&, const code&) -> bool = default;
    friend auto operator<=>(const code&, const code&) = default;
    friend auto is_valid(const code& c) -> bool { return c.n > 0; }
};
}  // namespace
template <>
struct std::hash<code> : compile_fail::int_hash<code> {};
template <>
struct fmt::formatter<code> : compile_fail::int_formatter<code> {};

int main() { compile_fail::make_product<compile_fail::traits<code>>(); }
