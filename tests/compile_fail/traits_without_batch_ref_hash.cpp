// allocation — must not compile: traits whose batch reference type has no std::hash.
// SPDX-License-Identifier: MIT
// expect-error: std::hash<batch_ref_type> is not enabled
#include "compile_fail/hand_written_ids.hpp"

namespace {
struct ref {
    int n = 0;
    friend auto operator==(const ref&, const ref&) -> bool = default;
    friend auto is_valid(const ref& r) -> bool { return r.n > 0; }
};
}  // namespace
template <>
struct fmt::formatter<ref> : compile_fail::int_formatter<ref> {};

int main() { compile_fail::make_product<compile_fail::traits<std::int64_t, std::int64_t, ref>>(); }
