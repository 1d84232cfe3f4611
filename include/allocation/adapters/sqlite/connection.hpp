// allocation — SQLite adapter: RAII owners of connections and statements over the C API of
// libsqlite3, and the meaning of its result codes.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_SQLITE_CONNECTION_HPP
#define ALLOCATION_ADAPTERS_SQLITE_CONNECTION_HPP

#include <sqlite3.h>

#include <cstdint>      // int64_t
#include <memory>       // unique_ptr
#include <optional>     // optional
#include <string>       // string
#include <string_view>  // string_view

#include <allocation/error.hpp>

namespace allocation::sqlite::detail {

struct connection_closer {
    void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
/// An open database connection.
using connection = std::unique_ptr<sqlite3, connection_closer>;

struct statement_finalizer {
    void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};

/// Whether an SQLite result code says "another connection holds the lock".
[[nodiscard]] inline auto is_busy(int rc) noexcept -> bool {
    const int primary = rc & 0xff;
    return primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
}

/// A prepared statement, reset after each use. bind() takes 1-based positions, column() 0-based.
class statement {
public:
    statement() = default;
    statement(sqlite3* db, std::string_view sql) : db_(db) {
        sqlite3_stmt* raw = nullptr;
        rc_ = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &raw,
                                 nullptr);
        stmt_.reset(raw);
    }

    /// Whether the statement was prepared.
    [[nodiscard]] auto ok() const noexcept -> bool { return stmt_ != nullptr && rc_ == SQLITE_OK; }
    [[nodiscard]] auto prepare_status() const noexcept -> int { return rc_; }

    void bind(int i, std::int64_t v) noexcept { sqlite3_bind_int64(stmt_.get(), i, v); }
    void bind(int i, std::string_view v) noexcept {
        sqlite3_bind_text(stmt_.get(), i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    }
    /// Binds text that stays valid and unchanged until the statement is reset.
    void bind_static(int i, std::string_view v) noexcept {
        sqlite3_bind_text(stmt_.get(), i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    }
    void bind_null(int i) noexcept { sqlite3_bind_null(stmt_.get(), i); }
    void bind(int i, const std::optional<std::int64_t>& v) noexcept {
        if (v) {
            bind(i, *v);
        } else {
            bind_null(i);
        }
    }
    void bind(int i, const std::optional<std::string>& v) noexcept {
        if (v) {
            bind(i, std::string_view(*v));
        } else {
            bind_null(i);
        }
    }

    /// Runs a step: SQLITE_ROW, SQLITE_DONE or an error code.
    auto step() noexcept -> int { return sqlite3_step(stmt_.get()); }
    /// Runs a statement that returns no rows to the end, then resets it.
    auto exec() noexcept -> int {
        int rc = step();
        while (rc == SQLITE_ROW) rc = step();
        reset();
        return rc;
    }
    void reset() noexcept {
        sqlite3_reset(stmt_.get());
        sqlite3_clear_bindings(stmt_.get());
    }

    [[nodiscard]] auto is_null(int i) const noexcept -> bool {
        return sqlite3_column_type(stmt_.get(), i) == SQLITE_NULL;
    }
    [[nodiscard]] auto int64(int i) const noexcept -> std::int64_t { return sqlite3_column_int64(stmt_.get(), i); }
    [[nodiscard]] auto optional_int64(int i) const -> std::optional<std::int64_t> {
        if (is_null(i)) return std::nullopt;
        return int64(i);
    }
    [[nodiscard]] auto text(int i) const -> std::string {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_.get(), i));
        const auto n = sqlite3_column_bytes(stmt_.get(), i);
        return p == nullptr ? std::string{} : std::string(p, static_cast<std::size_t>(n));
    }
    [[nodiscard]] auto optional_text(int i) const -> std::optional<std::string> {
        if (is_null(i)) return std::nullopt;
        return text(i);
    }

private:
    sqlite3* db_ = nullptr;
    std::unique_ptr<sqlite3_stmt, statement_finalizer> stmt_;
    int rc_ = SQLITE_ERROR;
};

/// Runs SQL text of one or more statements without results.
inline auto exec_script(sqlite3* db, const char* sql) noexcept -> int {
    return sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
}

/// The text of the last error on a connection.
[[nodiscard]] inline auto last_error(sqlite3* db) -> std::string {
    return db == nullptr ? std::string("no connection") : std::string(sqlite3_errmsg(db));
}

/// Maps an SQLite result code met while writing: a busy database or a constraint violation
/// (another writer added the same SKU, batch or message id first) is a conflict.
[[nodiscard]] inline auto write_error(int rc) noexcept -> std::error_code {
    if (is_busy(rc) || (rc & 0xff) == SQLITE_CONSTRAINT) return errc::conflict;
    return errc::storage_error;
}

/// success() for SQLITE_DONE, else write_error().
[[nodiscard]] inline auto done(int rc) -> result<void> {
    if (rc == SQLITE_DONE) return success();
    return write_error(rc);
}

}  // namespace allocation::sqlite::detail

#endif  // ALLOCATION_ADAPTERS_SQLITE_CONNECTION_HPP
