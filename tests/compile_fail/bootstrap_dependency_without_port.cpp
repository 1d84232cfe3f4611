// allocation — must not compile: a bootstrap dependency that models no port.
// SPDX-License-Identifier: MIT
// expect-error: a bootstrap dependency must model notifications, allocations_view or event_publisher
#include <allocation/allocation.hpp>

namespace {
struct mailer {  // sends, but not with the notifications signature
    void mail(const char*) {}
};
}  // namespace

int main() {
    allocation::memory::store store;
    auto bus = allocation::bootstrap(store, allocation::bootstrap_options{}, mailer{});
    (void)bus;
}
