// allocation — the message bus on the memory store under concurrent writers: many threads
// allocating, deallocating, ordering and changing batch quantities at once never oversell,
// lose or duplicate an acknowledged allocation, and leave the allocations read model in
// agreement with the products.
// SPDX-License-Identifier: MIT
#include <allocation/allocation.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <variant>
#include <vector>

#include <fmt/format.h>

using namespace allocation;

namespace {

constexpr int threads = 8;
constexpr int rounds = 120;
constexpr int hot_batches = 4;

using bus_type = basic_message_bus<memory::store>;

/// What one thread was told: the lines acknowledged to it and not deallocated by it since.
struct ledger {
    std::map<std::pair<std::string, std::string>, std::int64_t> lines;  // (order, SKU) -> qty
    std::vector<std::string> failures;                                  // unexpected errors
};

struct fixture {
    memory::store store;
    memory::allocations_view view;
    memory::notifications notes;
    memory::publisher pub;
    std::mutex log_mutex;
    std::vector<std::string> log;
    bus_type bus = bootstrap(store, options(), std::ref(view), std::ref(notes), std::ref(pub));

    auto options() -> bootstrap_options {
        bootstrap_options o;
        o.log = [this](std::string_view line) {
            const std::lock_guard lock(log_mutex);
            log.emplace_back(line);
        };
        o.retry.attempts = 50;  // a conflict only means "try again" here
        return o;
    }
};

auto hot_ref(int i) -> batch_ref { return batch_ref{fmt::format("hot-{}", i)}; }

// One writer: its own SKU, the hot SKU every thread fights for, whole orders over both, its own
// deallocations, and quantity changes of one hot batch.
void writer(fixture& f, int t, ledger& out) {
    std::minstd_rand rng(static_cast<std::minstd_rand::result_type>(1234 + t));
    const auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    const sku own{fmt::format("T{}", t)};
    const sku hot{"HOT"};
    const auto expect_ok_or = [&](const std::error_code& ec, errc allowed, const std::string& what) {
        if (ec && ec != allowed) out.failures.push_back(fmt::format("{}: {}", what, ec.message()));
    };

    // Everyone adds a batch to the same new product at once: all must succeed.
    if (auto r = f.bus.handle(commands::create_batch{batch_ref{fmt::format("new-{}", t)}, sku{"NEW"}, quantity{10}, {}, {}}); !r) {
        out.failures.push_back(fmt::format("create_batch NEW: {}", r.error().message()));
    }
    if (auto r = f.bus.handle(commands::create_batch{batch_ref{fmt::format("own-{}", t)}, own, quantity{400}, {}, {}}); !r) {
        out.failures.push_back(fmt::format("create_batch {}: {}", own, r.error().message()));
    }

    std::vector<std::string> mine;  // hot orders acknowledged to this thread, oldest first
    for (int i = 0; i < rounds; ++i) {
        const auto order = fmt::format("t{}-{}", t, i);
        const auto qty = quantity{pick(1, 4)};
        switch (i % 6) {
            case 0:
            case 1:
            case 2: {  // one line on the hot SKU
                const auto r = f.bus.handle(commands::allocate{order_id{order}, hot, qty});
                if (r) {
                    out.lines[{order, "HOT"}] = qty.value;
                    mine.push_back(order);
                } else {
                    expect_ok_or(r.error(), errc::out_of_stock, "allocate");
                }
                break;
            }
            case 3: {  // a whole order naming the hot SKU twice and the own SKU once
                const auto second = quantity{pick(1, 3)};
                const auto r = f.bus.handle(commands::allocate_order{
                    order_id{order}, {{hot, qty}, {own, quantity{2}}, {hot, second}}});
                if (r) {
                    out.lines[{order, "HOT"}] = (qty + second).value;
                    out.lines[{order, own.value}] = 2;
                    mine.push_back(order);
                } else {
                    expect_ok_or(r.error(), errc::out_of_stock, "allocate_order");
                }
                break;
            }
            case 4: {  // give back the oldest hot line this thread holds
                if (mine.empty()) break;
                const auto victim = mine.front();
                mine.erase(mine.begin());
                const auto r = f.bus.handle(commands::deallocate{order_id{victim}, hot, std::nullopt});
                if (r) {
                    out.lines.erase({victim, "HOT"});
                } else {
                    // A batch change may have dropped it already.
                    expect_ok_or(r.error(), errc::not_allocated, "deallocate");
                }
                break;
            }
            case 5: {  // shrink or grow a hot batch; lines that no longer fit move elsewhere
                const auto r = f.bus.handle(commands::change_batch_quantity{hot_ref(t % hot_batches), quantity{pick(20, 80)}});
                if (!r) out.failures.push_back(fmt::format("change_batch_quantity: {}", r.error().message()));
                break;
            }
        }
    }
}

// Seeds the hot SKU, then runs every writer at once; returns what each was told.
auto run_writers(fixture& f) -> std::vector<ledger> {
    for (int i = 0; i < hot_batches; ++i) {
        REQUIRE(f.bus.handle(commands::create_batch{hot_ref(i), sku{"HOT"}, quantity{50}, {}, {}}));
    }
    std::vector<ledger> ledgers(threads);
    std::vector<std::jthread> pool;
    for (int t = 0; t < threads; ++t) pool.emplace_back([&f, &ledgers, t] { writer(f, t, ledgers[static_cast<std::size_t>(t)]); });
    pool.clear();  // joins
    return ledgers;
}

// Where every order's lines are, read from the products: order -> {(SKU, batch)}.
auto rows_from_products(fixture& f) -> std::map<std::string, std::set<std::pair<std::string, std::string>>> {
    std::map<std::string, std::set<std::pair<std::string, std::string>>> rows;
    for (const auto& s : {std::string("HOT"), std::string("NEW")}) {
        REQUIRE(f.store.read(sku{s}, [&](const product& p) {
            for (const auto& b : p.batches()) {
                for (const auto& e : b.allocations()) rows[e.order.value].emplace(s, b.ref().value);
            }
        }));
    }
    for (int t = 0; t < threads; ++t) {
        const auto s = fmt::format("T{}", t);
        REQUIRE(f.store.read(sku{s}, [&](const product& p) {
            for (const auto& b : p.batches()) {
                for (const auto& e : b.allocations()) rows[e.order.value].emplace(s, b.ref().value);
            }
        }));
    }
    return rows;
}

}  // namespace

TEST_SUITE("memory") {

TEST_CASE("concurrent writers through one bus never oversell nor lose or duplicate an acknowledged allocation") {
    fixture f;
    const auto ledgers = run_writers(f);

    for (const auto& l : ledgers) {
        for (const auto& failure : l.failures) FAIL_CHECK(failure);
    }
    CHECK(f.log.empty());

    // Lines dropped by a batch change (deallocated, then out of stock when reallocated) are the
    // only acknowledged lines allowed to be missing.
    std::set<std::pair<std::string, std::string>> shrunk;
    for (const auto& m : f.pub.published()) {
        if (const auto* d = std::get_if<events::deallocated>(&m.event); d && d->reason == deallocation_reason::batch_shrunk) {
            shrunk.emplace(d->order.value, d->sku.value);
        }
    }

    std::vector<std::string> skus{"HOT", "NEW"};
    for (int t = 0; t < threads; ++t) skus.push_back(fmt::format("T{}", t));
    CHECK(f.store.size() == skus.size());

    std::map<std::pair<std::string, std::string>, std::int64_t> stored;  // (order, SKU) -> qty
    for (const auto& s : skus) {
        const bool found = f.store.read(sku{s}, [&](const product& p) {
            std::int64_t available = 0;
            std::map<std::string, int> entries;
            for (const auto& b : p.batches()) {
                CHECK(b.available() >= quantity{0});  // never oversold
                CHECK(b.allocated() + b.available() == b.purchased());
                std::int64_t sum = 0;
                for (const auto& e : b.allocations()) {
                    sum += e.qty.value;
                    ++entries[e.order.value];
                }
                CHECK(sum == b.allocated().value);
                available += b.available().value;
            }
            CHECK(p.available().value == available);
            for (const auto& [order, rec] : p.lines()) {
                CHECK(entries[order.value] == 1);  // one line, in one batch, once
                stored[{order.value, s}] = rec.qty.value;
            }
            CHECK(entries.size() == p.lines().size());
            if (s == "NEW") {
                CHECK(p.batches().size() == static_cast<std::size_t>(threads));
                CHECK(p.available() == quantity{10 * threads});
            }
        });
        REQUIRE_MESSAGE(found, s);
    }

    // Every acknowledged line is stored once with its quantity, unless a batch change dropped it.
    std::size_t acknowledged = 0;
    for (const auto& l : ledgers) {
        for (const auto& line : l.lines) {
            const auto& key = line.first;  // not a structured binding: clang 14 cannot capture those
            const auto qty = line.second;
            ++acknowledged;
            const auto it = stored.find(key);
            if (it == stored.end()) {
                CHECK_MESSAGE(shrunk.contains(key), key.first, " ", key.second, " was acknowledged and is gone");
            } else {
                CHECK_MESSAGE(it->second == qty, key.first, " ", key.second);
            }
        }
    }
    CHECK(acknowledged > 0);
    // Nothing is stored that no thread was told about.
    for (const auto& line : stored) {
        const auto& key = line.first;
        const bool told = std::any_of(ledgers.begin(), ledgers.end(), [&](const ledger& l) { return l.lines.contains(key); });
        CHECK_MESSAGE(told, key.first, " ", key.second, " is allocated but was never acknowledged");
    }
}

// Observers of two writers of one product may run in the opposite order of their commits; the
// read model must still end up listing exactly what the products hold.
TEST_CASE("concurrent writers through one bus leave the allocations read model in agreement with the products") {
    fixture f;
    (void)run_writers(f);
    auto rows = rows_from_products(f);
    // The read model lists exactly where every order's lines are.
    for (int t = 0; t < threads; ++t) {
        for (int i = 0; i < rounds; ++i) {
            const auto order = fmt::format("t{}-{}", t, i);
            const auto got = f.view.get(order_id{order});
            REQUIRE(got);
            std::set<std::pair<std::string, std::string>> seen;
            for (const auto& r : got.value()) seen.emplace(r.sku.value, r.batch.value);
            const auto text = [](const std::set<std::pair<std::string, std::string>>& x) {
                std::string out;
                for (const auto& [s, b] : x) out += fmt::format(" {}@{}", s, b);
                return out;
            };
            CHECK_MESSAGE(seen == rows[order], order, ": read model", text(seen), ", products", text(rows[order]));
        }
    }
}

}  // TEST_SUITE("memory")
