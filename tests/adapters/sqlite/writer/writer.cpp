// allocation tests — a writer process for the SQLite crash and concurrency tests: allocates
// order lines through the message bus on a database file and prints each acknowledged result.
// SPDX-License-Identifier: MIT
//
// usage: allocation-sqlite-writer <db> <tag> <first> <count> [full|normal] [threads]
// Allocates the orders <tag>-<n> for n = first, first + 1, ... (count 0: until killed), each on
// a SKU and quantity derived from n, with the message id m-<tag>-<n>, from `threads` threads at
// once (default 1; thread t sends every threads-th order from first + t), and prints one line
// per command once the bus has answered (the commit is then durable):
//   ack <order> <sku> <qty> <batch>   allocated
//   oos <order> <sku> <qty>           out of stock
//   err <order> <message>             any other error
// and at the end `conflicts <n>`: commits that met errc::conflict (each retried).
#include <unistd.h>  // write

#include <algorithm>  // max

#include <cstdint>  // uint64_t
#include <cstdlib>  // strtoll
#include <mutex>    // mutex, lock_guard
#include <string>   // string
#include <thread>   // thread
#include <vector>   // vector

#include <fmt/format.h>

#include <allocation/adapters/sqlite.hpp>
#include <allocation/allocation.hpp>

namespace {

void say(const std::string& line) {
    static std::mutex one_line_at_a_time;
    const std::lock_guard lock(one_line_at_a_time);
    const char* p = line.data();
    auto left = line.size();
    while (left > 0) {
        const auto n = ::write(1, p, left);
        if (n <= 0) return;
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

auto mix(std::uint64_t x) -> std::uint64_t {  // splitmix64
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

}  // namespace

int main(int argc, char** argv) {
    using namespace allocation;
    if (argc < 5) {
        fmt::print(stderr, "usage: {} <db> <tag> <first> <count> [full|normal]\n", argv[0]);
        return 2;
    }
    const std::string db = argv[1];
    const std::string tag = argv[2];
    const auto first = std::strtoll(argv[3], nullptr, 10);
    const auto count = std::strtoll(argv[4], nullptr, 10);
    sqlite::options opts;
    if (argc > 5 && std::string(argv[5]) == "normal") opts.durability = sqlite::durability::normal;
    std::string error;
    auto opened = sqlite::store::open(db, opts, &error);
    if (!opened) {
        fmt::print(stderr, "cannot open {}: {}\n", db, error);
        return 1;
    }
    auto& store = *opened.value();
    auto bus = bootstrap(store, bootstrap_options{.retry = {.attempts = 20, .backoff = std::chrono::microseconds{20}},
                                                  .log = [](std::string_view) {}});
    const auto threads = argc > 6 ? std::max(1LL, std::strtoll(argv[6], nullptr, 10)) : 1LL;
    const auto send = [&](long long t) {
        static const char* const skus[] = {"LAMP", "DESK", "CHAIR"};
        for (auto n = first + t; count == 0 || n < first + count; n += threads) {
            const auto h = mix(static_cast<std::uint64_t>(n));
            commands::allocate cmd{order_id{fmt::format("{}-{}", tag, n)}, sku{skus[h % 3]},
                                   quantity{static_cast<std::int64_t>(1 + (h >> 8) % 5)}};
            cmd.message_id = fmt::format("m-{}-{}", tag, n);
            auto r = bus.handle(cmd);
            while (!r && r.error() == errc::conflict) r = bus.handle(cmd);
            if (r) {
                say(fmt::format("ack {} {} {} {}\n", cmd.order, cmd.sku, cmd.qty, r.value()));
            } else if (r.error() == errc::out_of_stock) {
                say(fmt::format("oos {} {} {}\n", cmd.order, cmd.sku, cmd.qty));
            } else {
                say(fmt::format("err {} {}\n", cmd.order, r.error().message()));
            }
        }
    };
    std::vector<std::thread> senders;
    for (long long t = 1; t < threads; ++t) senders.emplace_back(send, t);
    send(0);
    for (auto& t : senders) t.join();
    say(fmt::format("conflicts {}\n", store.conflicts()));
    return 0;
}
