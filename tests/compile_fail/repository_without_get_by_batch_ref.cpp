// allocation — must not compile: a repository without get_by_batch_ref() given where a
// repository is required. The diagnostic names the missing piece.
// SPDX-License-Identifier: MIT
// expect-error: gets_products_by_batch_ref
#include <allocation/allocation.hpp>

#include <vector>

namespace {

struct repository_without_get_by_batch_ref {
    using product_type = allocation::product;
    auto add(allocation::product) -> allocation::result<void> { return allocation::success(); }
    auto get(const allocation::sku&) -> allocation::result<allocation::product*> { return nullptr; }
    auto seen() const -> std::vector<allocation::product*> { return {}; }
};

template <allocation::repository R>
void use(R&) {}

}  // namespace

int main() {
    repository_without_get_by_batch_ref repo;
    use(repo);
}
