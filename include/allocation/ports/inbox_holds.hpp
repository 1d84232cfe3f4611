// allocation — the stored forms of the results of the hold and backorder commands in an inbox
// (see ports/inbox.hpp for the inbox and the forms of the allocation results).
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_PORTS_INBOX_HOLDS_HPP
#define ALLOCATION_PORTS_INBOX_HOLDS_HPP

#include <chrono>       // milliseconds
#include <string>       // string
#include <string_view>  // string_view
#include <type_traits>  // type_identity

#include <fmt/format.h>

#include <allocation/domain/commands.hpp>
#include <allocation/error.hpp>
#include <allocation/ports/inbox.hpp>
#include <allocation/try.hpp>

/// Besides the forms of ports/inbox.hpp:
/// - a Hold result: `H` + its deadline (milliseconds since 1970) 0x1f + 1 when replayed, else 0,
///   0x1e, then its lines as an order's allocations (`L` + SKU 0x1f quantity 0x1f batch 0x1e...).
namespace allocation::inbox {

/// The stored form of a Hold result.
template <class Traits>
[[nodiscard]] auto encode(const result<basic_held_order<Traits>>& r) -> std::string {
    if (!r) return encode_error(r.error());
    const auto& h = r.value();
    const result<std::vector<basic_line_allocation<Traits>>> lines{h.lines};
    return fmt::format("H{}\x1f{}\x1e{}", h.expires_at.time_since_epoch().count(), h.replayed ? 1 : 0, encode(lines));
}

/// A Hold result from its stored form.
template <class Traits>
[[nodiscard]] auto decode_held_order(std::string_view text) -> result<basic_held_order<Traits>> {
    if (text.empty()) return errc::storage_error;
    if (text.front() == 'E') return detail::decode_error(text);
    if (text.front() != 'H') return errc::storage_error;
    const auto unit = text.find('\x1f');
    const auto record = text.find('\x1e');
    if (unit == std::string_view::npos || record == std::string_view::npos || record < unit) return errc::storage_error;
    const auto ms = detail::parse_int(text.substr(1, unit - 1));
    const auto replayed = text.substr(unit + 1, record - unit - 1);
    if (!ms || (replayed != "0" && replayed != "1")) return errc::storage_error;
    ALLOCATION_TRY(lines, decode_line_allocations<Traits>(text.substr(record + 1)));
    return basic_held_order<Traits>{{}, timestamp{std::chrono::milliseconds{*ms}}, std::move(lines), replayed == "1"};
}

template <class Traits>
[[nodiscard]] auto decode(std::string_view text, std::type_identity<result<basic_held_order<Traits>>>)
    -> result<basic_held_order<Traits>> {
    return decode_held_order<Traits>(text);
}

}  // namespace allocation::inbox

#endif  // ALLOCATION_PORTS_INBOX_HOLDS_HPP
