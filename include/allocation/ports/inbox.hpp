// allocation — the optional inbox capability of a unit of work: message ids already processed,
// with their results, so that a command sent again is answered without being done again.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_PORTS_INBOX_HPP
#define ALLOCATION_PORTS_INBOX_HPP

#include <charconv>     // from_chars, to_chars
#include <concepts>     // same_as
#include <cstdint>      // int64_t
#include <optional>     // optional
#include <string>       // string
#include <string_view>  // string_view
#include <type_traits>  // type_identity
#include <utility>      // move
#include <vector>       // vector

#include <allocation/domain/commands.hpp>
#include <allocation/domain/traits.hpp>
#include <allocation/domain/types.hpp>
#include <allocation/error.hpp>

namespace allocation {

/// A unit of work with an inbox: `uow.find_processed(id)` gives the stored result of a message
/// id processed before (none when new), and `uow.record_processed(id, result)` stores one, to be
/// kept by the same commit as the command's changes. A unit of work whose commit finds the id
/// recorded meanwhile by another writer fails with errc::conflict (the bus retries, and the
/// retry finds the stored result). The handlers use it when the unit of work models it and the
/// command carries a message id; it is optional.
template <class U>
concept records_processed_messages = requires(U& uow, const std::string& id, std::string text) {
    { uow.find_processed(id) } -> std::same_as<result<std::optional<std::string>>>;
    { uow.record_processed(id, std::move(text)) } -> std::same_as<result<void>>;
};

/// The text form of a processed message kept in an inbox: `F` + the message's fingerprint +
/// 0x1d + its result when the message has a fingerprint, else the result alone. Identifiers and
/// fingerprints never hold control characters, so the group (0x1d), record (0x1e) and unit
/// (0x1f) separators delimit fields. A result is:
/// - a batch reference: `B` + the reference (in its id_text form, as every identifier);
/// - an order's allocations: `L` + (SKU 0x1f quantity 0x1f batch 0x1e) per line;
/// - the success of a command that answers nothing: `V`;
/// - a message refused before it became a command (see handlers::record_refusal): `R`;
/// - an error of the allocation category: `E` + its number.
namespace inbox {

/// A processed message as an inbox keeps it: its fingerprint (empty: none) and the stored form
/// of its result. Views into the text it was read from.
struct processed_message {
    std::string_view fingerprint;
    std::string_view result;
};

/// The stored form of a processed message: its fingerprint and the stored form of its result.
[[nodiscard]] inline auto seal(std::string_view fingerprint, std::string_view result_text) -> std::string {
    if (fingerprint.empty()) return std::string(result_text);
    std::string out;
    out.reserve(fingerprint.size() + result_text.size() + 2);
    out += 'F';
    out += fingerprint;
    out += '\x1d';
    out += result_text;
    return out;
}

/// A processed message from its stored form (see seal()).
[[nodiscard]] inline auto open(std::string_view text) noexcept -> processed_message {
    if (text.empty() || text.front() != 'F') return {{}, text};
    const auto end = text.find('\x1d');
    if (end == std::string_view::npos) return {text.substr(1), {}};  // no result: decodes as a storage error
    return {text.substr(1, end - 1), text.substr(end + 1)};
}

/// The stored result of a message refused before it became a command.
inline constexpr std::string_view refused = "R";

namespace detail {
template <class Id>
[[nodiscard]] auto text_of(const Id& id) -> std::string {
    static_assert(has_text_form<Id>,
                  "allocation inbox: the SKU and batch reference types need a text form: specialize "
                  "allocation::id_text for them (integers and text have one)");
    return id_text<Id>::to_text(id);
}
template <class Id>
[[nodiscard]] auto id_of(std::string_view text) -> std::optional<Id> {
    static_assert(has_text_form<Id>,
                  "allocation inbox: the SKU and batch reference types need a text form: specialize "
                  "allocation::id_text for them (integers and text have one)");
    return id_text<Id>::from_text(text);
}
[[nodiscard]] inline auto parse_int(std::string_view s) -> std::optional<std::int64_t> {
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
    return v;
}
[[nodiscard]] inline auto decode_error(std::string_view text) -> std::error_code {
    const auto n = parse_int(text.substr(1));
    if (!n || *n <= 0) return errc::storage_error;
    return static_cast<errc>(*n);
}
}  // namespace detail

/// The stored form of an error (of errc).
[[nodiscard]] inline auto encode_error(std::error_code ec) -> std::string {
    return fmt::format("E{}", ec.category() == error_category() ? ec.value() : static_cast<int>(errc::storage_error));
}

/// The stored form of the result of a command that answers nothing but success.
[[nodiscard]] inline auto encode(const result<void>& r) -> std::string {
    if (!r) return encode_error(r.error());
    return "V";
}

/// The stored form of an Allocate result.
template <class BatchRef>
[[nodiscard]] auto encode(const result<BatchRef>& r) -> std::string {
    if (!r) return encode_error(r.error());
    return fmt::format("B{}", detail::text_of(r.value()));
}

/// An Allocate result from its stored form.
template <class BatchRef>
[[nodiscard]] auto decode_batch_ref(std::string_view text) -> result<BatchRef> {
    if (text.empty()) return errc::storage_error;
    if (text.front() == 'B') {
        auto ref = detail::id_of<BatchRef>(text.substr(1));
        if (!ref) return errc::storage_error;
        return std::move(*ref);
    }
    if (text.front() == 'E') return detail::decode_error(text);
    return errc::storage_error;
}

/// The stored form of an AllocateOrder result.
template <class Traits>
[[nodiscard]] auto encode(const result<std::vector<basic_line_allocation<Traits>>>& r) -> std::string {
    if (!r) return encode_error(r.error());
    std::string out = "L";
    for (const auto& a : r.value()) {
        out += detail::text_of(a.sku);
        out += '\x1f';
        out += fmt::format("{}", allocation::detail::count(a.qty));
        out += '\x1f';
        out += detail::text_of(a.batch);
        out += '\x1e';
    }
    return out;
}

/// An AllocateOrder result from its stored form.
template <class Traits>
[[nodiscard]] auto decode_line_allocations(std::string_view text)
    -> result<std::vector<basic_line_allocation<Traits>>> {
    if (text.empty()) return errc::storage_error;
    if (text.front() == 'E') return detail::decode_error(text);
    if (text.front() != 'L') return errc::storage_error;
    std::vector<basic_line_allocation<Traits>> out;
    text.remove_prefix(1);
    while (!text.empty()) {
        const auto end = text.find('\x1e');
        if (end == std::string_view::npos) return errc::storage_error;
        const auto rec = text.substr(0, end);
        text.remove_prefix(end + 1);
        const auto a = rec.find('\x1f');
        const auto b = a == std::string_view::npos ? a : rec.find('\x1f', a + 1);
        if (b == std::string_view::npos) return errc::storage_error;
        const auto qty = detail::parse_int(rec.substr(a + 1, b - a - 1));
        auto sku = detail::id_of<typename Traits::sku_type>(rec.substr(0, a));
        auto ref = detail::id_of<typename Traits::batch_ref_type>(rec.substr(b + 1));
        if (!qty || !sku || !ref) return errc::storage_error;
        out.push_back({std::move(*sku), allocation::detail::make_quantity<typename Traits::quantity_type>(*qty),
                       std::move(*ref)});
    }
    return out;
}

/// A command's result from its stored form: a success, an Allocate or an AllocateOrder result,
/// by `R`.
[[nodiscard]] inline auto decode(std::string_view text, std::type_identity<result<void>>) -> result<void> {
    if (text == "V") return success();
    if (!text.empty() && text.front() == 'E') return detail::decode_error(text);
    return errc::storage_error;
}
template <class BatchRef>
[[nodiscard]] auto decode(std::string_view text, std::type_identity<result<BatchRef>>) -> result<BatchRef> {
    return decode_batch_ref<BatchRef>(text);
}
template <class Traits>
[[nodiscard]] auto decode(std::string_view text,
                          std::type_identity<result<std::vector<basic_line_allocation<Traits>>>>)
    -> result<std::vector<basic_line_allocation<Traits>>> {
    return decode_line_allocations<Traits>(text);
}

}  // namespace inbox
}  // namespace allocation

#endif  // ALLOCATION_PORTS_INBOX_HPP
