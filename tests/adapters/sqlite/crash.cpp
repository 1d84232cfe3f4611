// allocation tests — nothing acknowledged is lost when a writer is killed, and two writer
// processes on one SQLite file never oversell and commit what a serial replay would.
// SPDX-License-Identifier: MIT
#include <fcntl.h>     // open
#include <poll.h>      // poll
#include <signal.h>    // kill, SIGKILL
#include <sys/wait.h>  // waitpid
#include <unistd.h>    // fork, execv, pipe, read, close, dup2

#include <chrono>         // steady_clock
#include <cstdint>        // int64_t
#include <filesystem>     // absolute, remove
#include <map>            // map
#include <random>         // mt19937
#include <set>            // set
#include <sstream>        // istringstream
#include <string>         // string
#include <unordered_map>  // unordered_map
#include <vector>         // vector

#include <doctest/doctest.h>

#include <allocation/adapters/sqlite.hpp>
#include <allocation/allocation.hpp>

#ifndef ALLOCATION_SQLITE_WRITER
#error "ALLOCATION_SQLITE_WRITER must name the writer executable"
#endif

namespace {

using namespace allocation;

// A writer process with its standard output on a pipe.
class writer_process {
public:
    explicit writer_process(const std::vector<std::string>& args) {
        int fds[2];
        REQUIRE(::pipe(fds) == 0);
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            ::dup2(fds[1], 1);
            ::close(fds[0]);
            ::close(fds[1]);
            std::vector<char*> argv;
            std::string exe = ALLOCATION_SQLITE_WRITER;
            argv.push_back(exe.data());
            auto copy = args;
            for (auto& a : copy) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(exe.c_str(), argv.data());
            ::_exit(127);
        }
        ::close(fds[1]);
        out_ = fds[0];
    }
    writer_process(const writer_process&) = delete;
    auto operator=(const writer_process&) -> writer_process& = delete;
    ~writer_process() {
        if (pid_ > 0) kill();
        if (out_ >= 0) ::close(out_);
    }

    // Reads what is available until `deadline` or the end of output.
    void read_until(std::chrono::steady_clock::time_point deadline) {
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0 || eof_) return;
            pollfd p{out_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
            char buf[4096];
            const auto n = ::read(out_, buf, sizeof buf);
            if (n <= 0) {
                eof_ = true;
                return;
            }
            text_.append(buf, static_cast<std::size_t>(n));
        }
    }
    // Kills with SIGKILL, reaps, and keeps what was printed before.
    void kill() {
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        drain();
    }
    // Waits for a normal exit; returns the exit code.
    auto wait() -> int {
        read_until(std::chrono::steady_clock::now() + std::chrono::seconds{50});
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    // Complete lines printed so far (a line cut by the kill is not acknowledged).
    [[nodiscard]] auto lines() const -> std::vector<std::string> {
        std::vector<std::string> out;
        std::size_t start = 0;
        for (std::size_t i = 0; i < text_.size(); ++i) {
            if (text_[i] == '\n') {
                out.push_back(text_.substr(start, i - start));
                start = i + 1;
            }
        }
        return out;
    }

private:
    void drain() {
        char buf[4096];
        ::fcntl(out_, F_SETFL, O_NONBLOCK);
        for (;;) {
            const auto n = ::read(out_, buf, sizeof buf);
            if (n <= 0) return;
            text_.append(buf, static_cast<std::size_t>(n));
        }
    }

    pid_t pid_ = -1;
    int out_ = -1;
    bool eof_ = false;
    std::string text_;
};

struct ack {
    std::string order, sku, batch;
    std::int64_t qty = 0;
};

struct parsed_output {
    std::vector<ack> allocated;
    std::vector<ack> out_of_stock;
    std::vector<std::string> errors;
    std::int64_t last = -1;  // highest n acknowledged
    std::uint64_t conflicts = 0;
};

void parse(const std::vector<std::string>& lines, parsed_output& out) {
    for (const auto& line : lines) {
        std::istringstream in(line);
        std::string word;
        in >> word;
        ack a;
        if (word == "ack") {
            in >> a.order >> a.sku >> a.qty >> a.batch;
            out.allocated.push_back(a);
        } else if (word == "oos") {
            in >> a.order >> a.sku >> a.qty;
            out.out_of_stock.push_back(a);
        } else if (word == "conflicts") {
            std::uint64_t n = 0;
            in >> n;
            out.conflicts += n;
            continue;
        } else {
            out.errors.push_back(line);
            continue;
        }
        const auto dash = a.order.rfind('-');
        out.last = std::max<std::int64_t>(out.last, std::stoll(a.order.substr(dash + 1)));
    }
}

auto fresh_db(const std::string& name) -> std::string {
    const auto path = std::filesystem::absolute(name).string();
    for (const auto* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    return path;
}

// Creates LAMP, DESK and CHAIR with `per_batch` units in each of `batches` warehouse batches.
void seed(const std::string& path, int batches, std::int64_t per_batch) {
    auto s = sqlite::store::open(path).value();
    auto bus = bootstrap(*s);
    for (const auto* code : {"LAMP", "DESK", "CHAIR"}) {
        for (int i = 0; i < batches; ++i) {
            REQUIRE(bus.handle(commands::create_batch{batch_ref{fmt::format("{}-{}", code, i)}, sku{code},
                                                      quantity{per_batch}}));
        }
    }
}

auto scalar(sqlite3* db, const char* sql) -> std::int64_t {
    sqlite::detail::statement st(db, sql);
    REQUIRE(st.ok());
    REQUIRE(st.step() == SQLITE_ROW);
    return st.int64(0);
}

// The checks every database must pass after any number of crashes.
void check_database(const std::string& path, const parsed_output& out) {
    auto s = sqlite::store::open(path).value();
    s->with_reader([&](sqlite3* db) {
        CHECK(scalar(db, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check <> 'ok'") == 0);
        // No batch over-allocated.
        CHECK(scalar(db, "SELECT count(*) FROM (SELECT b.ref FROM batches b JOIN allocations a ON a.batch_ref = b.ref "
                         "GROUP BY b.ref HAVING sum(a.qty) > b.purchased)") == 0);
        // No order line allocated twice.
        CHECK(scalar(db, "SELECT count(*) FROM (SELECT a.orderid, b.sku FROM allocations a JOIN batches b "
                         "ON a.batch_ref = b.ref GROUP BY a.orderid, b.sku HAVING count(*) > 1)") == 0);
        // Every allocation has its event in the outbox, and no event lacks its allocation.
        CHECK(scalar(db, "SELECT count(*) FROM allocations a WHERE NOT EXISTS (SELECT 1 FROM outbox o "
                         "WHERE o.channel = 'line_allocated' AND o.orderid = a.orderid AND o.batchref = a.batch_ref "
                         "AND o.qty = a.qty)") == 0);
        CHECK(scalar(db, "SELECT count(*) FROM outbox WHERE channel = 'line_allocated'") ==
              scalar(db, "SELECT count(*) FROM allocations"));
        // The read model matches the allocations.
        CHECK(scalar(db, "SELECT count(*) FROM allocations_view") == scalar(db, "SELECT count(*) FROM allocations"));
        CHECK(scalar(db, "SELECT count(*) FROM allocations a JOIN batches b ON a.batch_ref = b.ref WHERE NOT EXISTS "
                         "(SELECT 1 FROM allocations_view v WHERE v.orderid = a.orderid AND v.sku = b.sku "
                         "AND v.batchref = a.batch_ref)") == 0);
        // Every acknowledged allocation is there, on the batch it was acknowledged with.
        sqlite::detail::statement find(db,
                                       "SELECT count(*) FROM allocations a JOIN batches b ON a.batch_ref = b.ref "
                                       "WHERE a.orderid = ? AND b.sku = ? AND a.batch_ref = ? AND a.qty = ?");
        std::size_t missing = 0;
        for (const auto& a : out.allocated) {
            find.bind(1, std::string_view(a.order));
            find.bind(2, std::string_view(a.sku));
            find.bind(3, std::string_view(a.batch));
            find.bind(4, a.qty);
            REQUIRE(find.step() == SQLITE_ROW);
            if (find.int64(0) != 1) ++missing;
            find.reset();
        }
        CHECK(missing == 0);
        // Every acknowledged out-of-stock answer committed its event.
        std::set<std::string> refused;
        sqlite::detail::statement oos(db, "SELECT orderid FROM outbox WHERE channel = 'out_of_stock'");
        while (oos.step() == SQLITE_ROW) refused.insert(oos.text(0));
        std::size_t missing_events = 0;
        for (const auto& a : out.out_of_stock) missing_events += refused.contains(a.order) ? 0U : 1U;
        CHECK(missing_events == 0);
    });
    // The products load, and their versions are what the database says.
    auto uow = s->begin();
    for (const auto* code : {"LAMP", "DESK", "CHAIR"}) {
        auto p = uow.products().get(sku{code});
        REQUIRE(p);
        REQUIRE(p.value() != nullptr);
        for (const auto& b : p.value()->batches()) CHECK(b.allocated() <= b.purchased());
    }
}

}  // namespace

TEST_SUITE_BEGIN("sqlite");

TEST_CASE("a writer killed at random moments loses no acknowledged allocation and no event") {
    const auto path = fresh_db("crash.db");
    seed(path, 4, 600);
    parsed_output out;
    std::map<std::string, std::string> batch_of;  // order -> batch, across re-sent commands
    std::mt19937 random(20240601);
    std::int64_t next = 0;
    constexpr int kills = 24;
    for (int run = 0; run < kills; ++run) {
        // Each run re-sends the last acknowledged commands (same message ids) and those that may
        // have been in flight, then goes on.
        const auto first = std::max<std::int64_t>(0, next - 8);
        // Both durability settings survive a process crash; half the runs use each. Every other
        // pair of runs sends from four threads, so that commands on one product wait for the
        // disk together (their products are let go before their commits are durable).
        writer_process w({path, "w", std::to_string(first), "0", run % 2 == 0 ? "full" : "normal",
                          run % 4 < 2 ? "1" : "4"});
        const auto delay = std::chrono::milliseconds{30 + static_cast<int>(random() % 170)};
        w.read_until(std::chrono::steady_clock::now() + delay);
        w.kill();
        parsed_output run_out;
        parse(w.lines(), run_out);
        for (const auto& a : run_out.allocated) {
            const auto [it, fresh] = batch_of.emplace(a.order, a.batch);
            CHECK_MESSAGE(it->second == a.batch, "order ", a.order, " acknowledged on two batches");
            if (fresh) out.allocated.push_back(a);
        }
        for (const auto& a : run_out.out_of_stock) out.out_of_stock.push_back(a);
        CHECK(run_out.errors.empty());
        if (run_out.last >= 0) next = run_out.last + 1;
    }
    MESSAGE(out.allocated.size(), " allocations and ", out.out_of_stock.size(), " out-of-stock answers acknowledged over ",
            kills, " kills");
    CHECK(out.allocated.size() > 50);
    check_database(path, out);

    SUBCASE("the relay hands every committed event over once marked") {
        auto s = sqlite::store::open(path).value();
        sqlite::outbox box(*s);
        memory::publisher publisher;
        std::size_t relayed = 0;
        for (;;) {
            auto n = box.relay(publisher, 500);
            REQUIRE(n);
            if (n.value() == 0) break;
            relayed += n.value();
        }
        CHECK(box.pending().value() == 0);
        CHECK(relayed == publisher.published().size());
        std::size_t allocated_events = 0;
        for (const auto& m : publisher.published()) allocated_events += m.channel == "line_allocated" ? 1u : 0u;
        CHECK(allocated_events >= out.allocated.size());
    }
}

TEST_CASE("two writer processes on one file never oversell and commit what a serial replay would") {
    const auto path = fresh_db("two-writers.db");
    seed(path, 2, 120);
    writer_process a({path, "p1", "0", "250", "normal", "4"});
    writer_process b({path, "p2", "0", "250", "normal", "4"});
    CHECK(a.wait() == 0);
    CHECK(b.wait() == 0);
    parsed_output out;
    parse(a.lines(), out);
    parse(b.lines(), out);
    CHECK(out.errors.empty());
    CHECK(out.allocated.size() + out.out_of_stock.size() == 500);
    CHECK(!out.out_of_stock.empty());  // demand exceeds stock: the limit was reached
    MESSAGE(out.allocated.size(), " allocated, ", out.out_of_stock.size(), " out of stock, ", out.conflicts,
            " conflicts retried");
    check_database(path, out);

    // Replay the committed commands one at a time, in commit order (the outbox ids), on the
    // in-memory store: each gets the same answer.
    memory::store replay;
    auto bus = bootstrap(replay);
    for (const auto* code : {"LAMP", "DESK", "CHAIR"}) {
        for (int i = 0; i < 2; ++i) {
            REQUIRE(bus.handle(commands::create_batch{batch_ref{fmt::format("{}-{}", code, i)}, sku{code}, quantity{120}}));
        }
    }
    auto s = sqlite::store::open(path).value();
    sqlite::outbox box(*s);
    auto events = box.read(0, 100000);
    REQUIRE(events);
    std::size_t replayed = 0;
    std::size_t differences = 0;
    for (const auto& rec : events.value()) {
        if (const auto* e = std::get_if<events::allocated>(&rec.event)) {
            const auto r = bus.handle(commands::allocate{e->order, e->sku, e->qty});
            if (!r || !(r.value() == e->batch)) ++differences;
            ++replayed;
        } else if (const auto* o = std::get_if<events::out_of_stock>(&rec.event)) {
            const auto r = bus.handle(commands::allocate{o->order, o->sku, o->qty});
            if (r || r.error() != errc::out_of_stock) ++differences;
            ++replayed;
        }
    }
    CHECK(replayed == 500);
    CHECK(differences == 0);
}

TEST_SUITE_END();
