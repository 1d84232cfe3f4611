// allocation — must not compile: traits whose SKU type has no operator<.
// SPDX-License-Identifier: MIT
// expect-error: sku_type needs operator<
#include "compile_fail/hand_written_ids.hpp"

namespace {
struct code {
    int n = 0;
    friend auto operator==(const code&, const code&) -> bool = default;
    friend auto is_valid(const code& c) -> bool { return c.n > 0; }
};
}  // namespace
template <>
struct std::hash<code> : compile_fail::int_hash<code> {};
template <>
struct fmt::formatter<code> : compile_fail::int_formatter<code> {};

int main() { compile_fail::make_product<compile_fail::traits<code>>(); }
