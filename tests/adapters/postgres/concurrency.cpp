// allocation tests — concurrent writers on one PostgreSQL database: threads with their own
// connections, and separate processes, allocating the same SKUs.
// SPDX-License-Identifier: MIT
#include <sys/wait.h>  // waitpid
#include <unistd.h>    // fork, _exit

#include <cstdint>   // int64_t
#include <fstream>   // ofstream, ifstream
#include <map>       // map
#include <mutex>     // mutex, lock_guard
#include <random>    // mt19937, uniform_int_distribution
#include <string>    // string
#include <thread>    // thread
#include <vector>    // vector

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <allocation/adapters/postgres/store.hpp>
#include <allocation/bus/bootstrap.hpp>

#include "adapters/postgres/server.hpp"

using namespace allocation;
using allocation::testing::postgres::fresh_store;

namespace {

constexpr const char* skus[] = {"CHAIR", "LAMP", "TABLE"};

/// An allocation a writer was told succeeded.
struct acknowledged {
    std::string order;
    std::string sku;
    std::int64_t qty;
    std::string batch;
};

// Three SKUs, two batches each, 60 units per SKU: less than the writers ask for.
void stock(postgres::store& s) {
    auto bus = bootstrap(s);
    for (const char* code : skus) {
        REQUIRE(bus.handle(commands::create_batch{batch_ref{fmt::format("{}-here", code)}, sku{code}, quantity{25}}));
        REQUIRE(bus.handle(commands::create_batch{batch_ref{fmt::format("{}-ship", code)}, sku{code}, quantity{35},
                                                  date{std::chrono::year{2031}, std::chrono::month{1}, std::chrono::day{1}}}));
    }
}

// Allocates `count` lines of 1 to 3 units on random SKUs; returns what was acknowledged, or
// stops with `failed` set when an answer was neither a batch nor out of stock.
auto writer(const std::string& url, const std::string& name, int count, unsigned seed, bool& failed)
    -> std::vector<acknowledged> {
    postgres::store s(url, {.max_connections = 2});
    auto bus = bootstrap(s, bootstrap_options{.retry = {.attempts = 20}});
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> pick_sku(0, 2);
    std::uniform_int_distribution<std::int64_t> pick_qty(1, 3);
    std::vector<acknowledged> out;
    for (int i = 0; i < count; ++i) {
        const std::string code = skus[pick_sku(rng)];
        const auto qty = pick_qty(rng);
        const auto order = fmt::format("{}-{}", name, i);
        auto r = bus.handle(commands::allocate{order_id{order}, sku{code}, quantity{qty}});
        if (r) {
            out.push_back({order, code, qty, r.value().value});
        } else if (r.error() != errc::out_of_stock) {
            fmt::print(stderr, "{}: allocate {} failed: {}\n", name, order, r.error().message());
            failed = true;
            return out;
        }
    }
    return out;
}

// Checks the database against what the writers were told.
void verify(fresh_store& db, const std::vector<acknowledged>& acks) {
    CHECK(db.scalar("SELECT count(*) FROM batches WHERE allocated > purchased") == "0");
    CHECK(db.scalar("SELECT count(*) FROM batches b WHERE allocated <> "
                    "(SELECT coalesce(sum(qty), 0) FROM allocations a WHERE a.batch_ref = b.ref)") == "0");
    CHECK(db.scalar("SELECT count(*) FROM allocations") == std::to_string(acks.size()));
    std::int64_t total = 0;
    for (const auto& a : acks) total += a.qty;
    CHECK(db.scalar("SELECT coalesce(sum(qty), 0) FROM allocations") == std::to_string(total));
    // Every acknowledged line is stored, where the writer was told it is.
    pqxx::connection c(db.schema.url());
    pqxx::nontransaction tx(c);
    std::size_t missing = 0;
    for (const auto& a : acks) {
        const auto r = tx.exec(fmt::format("SELECT batch_ref, qty FROM allocations WHERE orderid = {}", c.quote(a.order)));
        if (r.size() != 1 || std::string(r[0][0].c_str()) != a.batch || r[0][1].as<std::int64_t>() != a.qty) ++missing;
    }
    CHECK(missing == 0);
    // The version counts every change: two batches and one per allocated line.
    const auto versions = tx.exec("SELECT sku, version FROM products ORDER BY sku");
    std::map<std::string, std::int64_t> lines;
    for (const auto& a : acks) ++lines[a.sku];
    for (const auto& row : versions) CHECK(row[1].as<std::int64_t>() == 2 + lines[row[0].c_str()]);
    // One Allocated event per acknowledged line, in the outbox.
    CHECK(db.scalar("SELECT count(*) FROM outbox WHERE channel = 'line_allocated'") == std::to_string(acks.size()));
}

}  // namespace

TEST_SUITE("postgres") {

TEST_CASE("threads with their own connections allocating the same SKUs never oversell") {
    fresh_store db;
    stock(db.store);
    constexpr int threads = 4;
    std::vector<std::vector<acknowledged>> results(threads);
    bool failed[threads] = {};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            results[static_cast<std::size_t>(t)] =
                writer(db.schema.url(), fmt::format("t{}", t), 40, static_cast<unsigned>(t + 1), failed[t]);
        });
    }
    for (auto& t : pool) t.join();
    std::vector<acknowledged> all;
    for (int t = 0; t < threads; ++t) {
        CHECK_FALSE(failed[t]);
        all.insert(all.end(), results[static_cast<std::size_t>(t)].begin(), results[static_cast<std::size_t>(t)].end());
    }
    CHECK(all.size() > 30);  // at least half the stock went out
    verify(db, all);
}

TEST_CASE("two processes allocating the same SKUs never oversell and keep every acknowledged line") {
    fresh_store db;
    stock(db.store);
    std::vector<pid_t> children;
    for (int p = 0; p < 2; ++p) {
        const pid_t pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            // The child: its own store and connections; reports through a file, exits without
            // running the parent's destructors (they own the parent's connections).
            bool failed = false;
            const auto name = fmt::format("p{}", p);
            const auto acks = writer(db.schema.url(), name, 60, static_cast<unsigned>(p + 7), failed);
            std::ofstream out(name + ".acks");
            for (const auto& a : acks) out << a.order << ' ' << a.sku << ' ' << a.qty << ' ' << a.batch << '\n';
            out.close();
            _exit(failed || !out ? 1 : 0);
        }
        children.push_back(pid);
    }
    std::vector<acknowledged> all;
    for (int p = 0; p < 2; ++p) {
        int status = 0;
        REQUIRE(waitpid(children[static_cast<std::size_t>(p)], &status, 0) > 0);
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
        std::ifstream in(fmt::format("p{}.acks", p));
        acknowledged a;
        while (in >> a.order >> a.sku >> a.qty >> a.batch) all.push_back(a);
        std::remove(fmt::format("p{}.acks", p).c_str());
    }
    CHECK(all.size() > 30);
    verify(db, all);
}

}  // TEST_SUITE
