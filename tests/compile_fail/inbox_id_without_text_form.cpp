// allocation — must not compile: an inbox storing a batch reference type that has no text form.
// SPDX-License-Identifier: MIT
// expect-error: the SKU and batch reference types need a text form
#include <allocation/ports/inbox.hpp>

namespace {
struct ref {
    int n = 0;
    friend auto operator==(const ref&, const ref&) -> bool = default;
};
}  // namespace

int main() {
    const auto text = allocation::inbox::encode(allocation::result<ref>{ref{1}});
    (void)text;
}
