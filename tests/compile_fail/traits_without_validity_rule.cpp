// allocation — must not compile: traits whose order id type has no validity rule.
// SPDX-License-Identifier: MIT
// expect-error: order_id_type needs a validity rule
#include "compile_fail/hand_written_ids.hpp"

namespace {
struct order {
    int n = 0;
    friend auto operator==(const order&, const order&) -> bool = default;
};
}  // namespace
template <>
struct std::hash<order> : compile_fail::int_hash<order> {};
template <>
struct fmt::formatter<order> : compile_fail::int_formatter<order> {};

int main() { compile_fail::make_product<compile_fail::traits<std::int64_t, order>>(); }
