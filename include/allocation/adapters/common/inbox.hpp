// allocation — the inbox a unit of work stages: message ids and results recorded before commit
// (the SQLite and PostgreSQL units of work, and the in-memory store's).
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ADAPTERS_COMMON_INBOX_HPP
#define ALLOCATION_ADAPTERS_COMMON_INBOX_HPP

#include <optional>  // optional
#include <string>    // string
#include <utility>   // move, pair
#include <vector>    // vector

namespace allocation::detail {

/// The (message id, result) pairs a unit of work recorded and has not committed yet; see
/// records_processed_messages. The store writes entries() with the commit and the unit of work
/// clears them when it ends either way.
class staged_inbox {
public:
    /// The result staged under `id`, none when it was not.
    [[nodiscard]] auto find(const std::string& id) const -> std::optional<std::string> {
        for (const auto& [key, text] : entries_) {
            if (key == id) return text;
        }
        return std::nullopt;
    }
    void record(const std::string& id, std::string text) { entries_.emplace_back(id, std::move(text)); }
    [[nodiscard]] auto entries() const noexcept -> const std::vector<std::pair<std::string, std::string>>& {
        return entries_;
    }
    [[nodiscard]] auto empty() const noexcept -> bool { return entries_.empty(); }
    void clear() noexcept { entries_.clear(); }

private:
    std::vector<std::pair<std::string, std::string>> entries_;
};

}  // namespace allocation::detail

#endif  // ALLOCATION_ADAPTERS_COMMON_INBOX_HPP
