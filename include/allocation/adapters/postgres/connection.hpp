// allocation — PostgreSQL adapter: a small pool of libpqxx connections, the translation of
// database errors into allocation::errc, and with_connection(), the one place a pooled
// connection is taken, used and given back or discarded.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_POSTGRES_CONNECTION_HPP
#define ALLOCATION_ADAPTERS_POSTGRES_CONNECTION_HPP

#include <algorithm>           // max
#include <atomic>              // atomic
#include <chrono>              // milliseconds
#include <condition_variable>  // condition_variable
#include <cstddef>             // size_t
#include <cstdint>             // uint64_t
#include <exception>           // exception
#include <functional>          // function
#include <memory>              // unique_ptr, make_unique, shared_ptr
#include <mutex>               // mutex, unique_lock
#include <string>              // string
#include <string_view>         // string_view
#include <type_traits>         // invoke_result_t, is_void_v
#include <utility>             // move, exchange
#include <vector>              // vector

#include <fmt/format.h>
#include <pqxx/pqxx>

#include <allocation/error.hpp>
#include <allocation/try.hpp>

namespace allocation::postgres {

/// How a PostgreSQL store uses its database.
struct options {
    /// The most connections open at once; a unit of work beyond that waits for one.
    std::size_t max_connections = 16;
    /// How long a unit of work waits for a free connection, then fails with errc::storage_error.
    std::chrono::milliseconds acquire_timeout{5'000};
    /// How long a unit of work waits for another one's lock on a product (PostgreSQL's
    /// lock_timeout), then fails with errc::conflict, which the message bus retries. Zero: fail
    /// at once (SELECT ... FOR UPDATE NOWAIT).
    std::chrono::milliseconds lock_timeout{2'000};
    /// postgres::grouped_store: how many groups of commits may be written at once, each in its
    /// own transaction on its own connection. Groups in flight never share a product: commits on
    /// a product a group in flight has wait for it and go together in a later group.
    std::size_t groups_in_flight = 2;
    /// Receives one line for every database failure (the SQLSTATE and PostgreSQL's message);
    /// none by default.
    std::function<void(std::string_view)> log{};
};

namespace detail {

/// Connections to one database, opened on demand and kept for reuse. Thread-safe. Each
/// connection is set up for the adapter: notices below ERROR silenced, the lock timeout set,
/// and libpqxx's silent reconnection turned off (a unit of work must never continue its
/// statements on a new session that does not hold its locks).
class connection_pool {
public:
    /// `url`: a libpq connection string or URI (`postgresql://user:pass@host:port/db`).
    connection_pool(std::string url, options opts) : url_(std::move(url)), options_(std::move(opts)) {}
    connection_pool(const connection_pool&) = delete;
    auto operator=(const connection_pool&) -> connection_pool& = delete;

    /// A connection for the caller alone, to be given back with release(), or errc::storage_error
    /// when the database cannot be reached or every connection stayed busy.
    auto acquire() -> result<std::unique_ptr<pqxx::connection>> {
        {
            std::unique_lock lock(mutex_);
            const auto ready = [&] { return !idle_.empty() || open_ < options_.max_connections; };
            if (!done_.wait_for(lock, options_.acquire_timeout, ready)) {
                report("no free connection within the acquire timeout");
                return errc::storage_error;
            }
            if (!idle_.empty()) {
                auto c = std::move(idle_.back());
                idle_.pop_back();
                return c;
            }
            ++open_;
        }
        try {
            auto c = std::make_unique<pqxx::connection>(url_);
            // Deprecated in libpqxx 6 (7 removed reactivation altogether) but still needed here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
            c->inhibit_reactivation(true);
#pragma GCC diagnostic pop
            pqxx::nontransaction tx(*c);
            tx.exec(fmt::format("SET client_min_messages = error; SET lock_timeout = {}",
                                std::max<std::chrono::milliseconds::rep>(options_.lock_timeout.count(), 1)));
            return c;
        } catch (const std::exception& e) {
            forget();
            report(fmt::format("cannot connect: {}", e.what()));
            return errc::storage_error;
        }
    }

    /// Gives a connection back; a broken one (or nullptr) is closed instead.
    void release(std::unique_ptr<pqxx::connection> c) noexcept {
        if (c == nullptr) return;
        bool ok = false;
        try {
            ok = c->is_open();
        } catch (...) {
        }
        if (!ok) {
            c.reset();
            forget();
            return;
        }
        {
            const std::lock_guard lock(mutex_);
            idle_.push_back(std::move(c));
        }
        done_.notify_one();
    }

    /// Closes a connection that can no longer be trusted (its transaction state is unknown).
    void discard(std::unique_ptr<pqxx::connection> c) noexcept {
        try {
            c.reset();
        } catch (...) {
        }
        forget();
    }

    /// Reports a failure to the configured log, and keeps it as the last error.
    void report(std::string_view line) {
        {
            const std::lock_guard lock(mutex_);
            last_error_ = line;
        }
        if (options_.log) options_.log(line);
    }

    /// The last failure reported.
    [[nodiscard]] auto last_error() const -> std::string {
        const std::lock_guard lock(mutex_);
        return last_error_;
    }

    [[nodiscard]] auto url() const noexcept -> const std::string& { return url_; }
    [[nodiscard]] auto settings() const noexcept -> const options& { return options_; }

    /// Counts a transaction of a unit of work committed, and a unit of work refused as a
    /// conflict (a lock wait timed out, a deadlock, a version that moved, a concurrent insert).
    void note_transaction() noexcept { transactions_.fetch_add(1, std::memory_order_relaxed); }
    void note_conflict() noexcept { conflicts_.fetch_add(1, std::memory_order_relaxed); }
    [[nodiscard]] auto transactions() const noexcept -> std::uint64_t { return transactions_.load(); }
    [[nodiscard]] auto conflicts() const noexcept -> std::uint64_t { return conflicts_.load(); }

private:
    void forget() noexcept {
        {
            const std::lock_guard lock(mutex_);
            --open_;
        }
        done_.notify_one();
    }

    std::string url_;
    options options_;
    mutable std::mutex mutex_;
    std::string last_error_;
    std::condition_variable done_;
    std::vector<std::unique_ptr<pqxx::connection>> idle_;
    std::size_t open_ = 0;
    std::atomic<std::uint64_t> transactions_{0};
    std::atomic<std::uint64_t> conflicts_{0};
};

/// How a failed statement leaves the connection.
enum class aftermath {
    usable,   ///< the session is intact (after a ROLLBACK if a transaction was open)
    broken,   ///< the connection is lost or its state unknown: close it
};

/// The errc for a database failure, and whether the connection is still usable.
/// Serialization failures, deadlocks, lock timeouts and a message id recorded in the inbox by
/// another writer first are errc::conflict (retrying may succeed); another unique key already
/// taken is errc::duplicate_product or errc::duplicate_batch by its constraint; everything else
/// is errc::storage_error.
struct failure {
    errc code = errc::storage_error;
    aftermath state = aftermath::usable;
    std::string text;
};

[[nodiscard]] inline auto classify(const std::exception_ptr& ep) -> failure {
    try {
        std::rethrow_exception(ep);
    } catch (const pqxx::broken_connection& e) {
        return {errc::storage_error, aftermath::broken, fmt::format("connection lost: {}", e.what())};
    } catch (const pqxx::in_doubt_error& e) {
        return {errc::storage_error, aftermath::broken, fmt::format("commit in doubt: {}", e.what())};
    } catch (const pqxx::statement_completion_unknown& e) {
        return {errc::storage_error, aftermath::broken, fmt::format("statement outcome unknown: {}", e.what())};
    } catch (const pqxx::transaction_rollback& e) {
        // libpqxx 6: serialization_failure (40001) and deadlock_detected (40P01) land here.
        return {errc::conflict, aftermath::usable, e.what()};
    } catch (const pqxx::sql_error& e) {
        const auto& state = e.sqlstate();
        auto text = fmt::format("SQLSTATE {}: {}", state, e.what());
        if (state == "40001" || state == "40P01" || state == "55P03") {
            return {errc::conflict, aftermath::usable, std::move(text)};
        }
        if (state == "23505") {
            const std::string_view what = e.what();
            if (what.find("inbox_pkey") != std::string_view::npos) {  // recorded by another writer first
                return {errc::conflict, aftermath::usable, std::move(text)};
            }
            if (what.find("batches_pkey") != std::string_view::npos) {
                return {errc::duplicate_batch, aftermath::usable, std::move(text)};
            }
            if (what.find("products_pkey") != std::string_view::npos) {
                return {errc::duplicate_product, aftermath::usable, std::move(text)};
            }
        }
        // 08xxx: connection exceptions; 57P0x: the server is shutting down.
        if (state.rfind("08", 0) == 0 || state.rfind("57P0", 0) == 0) {
            return {errc::storage_error, aftermath::broken, std::move(text)};
        }
        return {errc::storage_error, aftermath::usable, std::move(text)};
    } catch (const std::exception& e) {
        return {errc::storage_error, aftermath::broken, e.what()};
    } catch (...) {
        return {errc::storage_error, aftermath::broken, "unknown exception"};
    }
}

/// Runs `sql` (one or several statements) outside of libpqxx's transaction bookkeeping: the
/// adapter sends BEGIN and COMMIT itself, so that they travel with the statements around them
/// and a unit of work costs two round trips. Returns the last statement's result.
inline auto exec(pqxx::connection& c, const std::string& sql) -> pqxx::result {
    pqxx::nontransaction tx(c);
    return tx.exec(sql);
}

/// A string literal for SQL text (standard_conforming_strings, which PostgreSQL has on).
[[nodiscard]] inline auto quote(pqxx::connection& c, std::string_view text) -> std::string {
    return c.quote(std::string(text));
}

/// Runs `f(pqxx::connection&)` on a connection of `pool` and gives the connection back; when
/// `f` throws, the failure is reported to the pool's log, the connection discarded (its state is
/// unknown) and the classified errc returned. Returns what `f` returns.
template <class F>
auto with_connection(connection_pool& pool, F&& f) -> result<std::invoke_result_t<F&, pqxx::connection&>> {
    ALLOCATION_TRY(conn, pool.acquire());
    try {
        if constexpr (std::is_void_v<std::invoke_result_t<F&, pqxx::connection&>>) {
            f(*conn);
            pool.release(std::move(conn));
            return success();
        } else {
            auto out = f(*conn);
            pool.release(std::move(conn));
            return out;
        }
    } catch (...) {
        auto failure = classify(std::current_exception());
        pool.report(failure.text);
        pool.discard(std::move(conn));
        return failure.code;
    }
}

}  // namespace detail
}  // namespace allocation::postgres

#endif  // ALLOCATION_ADAPTERS_POSTGRES_CONNECTION_HPP
