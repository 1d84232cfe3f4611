// allocation-service — the date of an ISO 8601 text exactly as the reference service reads an
// `eta`: Python 3.11's datetime.fromisoformat(text).date().
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_SERVICE_ISO_DATE_HPP
#define ALLOCATION_SERVICE_ISO_DATE_HPP

#include <chrono>       // year_month_day, sys_days, weekday
#include <cstddef>      // size_t
#include <cstdlib>      // abs
#include <optional>     // optional
#include <string_view>  // string_view

#include <allocation/domain/types.hpp>

namespace allocation::service {

namespace detail {

/// Reads an ISO 8601 text the way CPython 3.11's C implementation of fromisoformat does, with
/// the same quirks (a separator that is any one character, a fraction of any length, a time
/// zone of up to 23:59:59.999999 with unchecked minutes), so that whatever the reference
/// accepts is accepted and whatever it refuses is refused. Reads past the end as '\0', as the
/// reference reads its NUL-terminated UTF-8 buffer.
class isoformat_reader {
public:
    explicit constexpr isoformat_reader(std::string_view text) noexcept : s_(text) {}

    [[nodiscard]] auto date() const -> std::optional<allocation::date> {
        std::size_t code_points = 0;
        for (const char c : s_) code_points += (static_cast<unsigned char>(c) & 0xC0U) != 0x80U ? 1 : 0;
        if (code_points < 7) return std::nullopt;
        const auto sep = separator();
        if (!sep) return std::nullopt;
        auto ymd = calendar_date(*sep);
        if (!ymd) return std::nullopt;
        if (s_.size() > *sep && !time_of_day(*sep)) return std::nullopt;
        return ymd;
    }

private:
    [[nodiscard]] constexpr auto at(std::size_t i) const noexcept -> char { return i < s_.size() ? s_[i] : '\0'; }
    [[nodiscard]] static constexpr auto is_digit(char c) noexcept -> bool { return c >= '0' && c <= '9'; }

    /// Adds `n` digits at `pos` to `value` (value * 10 + digit each); false at a non-digit.
    constexpr auto digits(std::size_t& pos, int& value, std::size_t n) const noexcept -> bool {
        for (std::size_t i = 0; i < n; ++i, ++pos) {
            const char c = at(pos);
            if (!is_digit(c)) return false;
            value = value * 10 + (c - '0');
        }
        return true;
    }

    /// Where the date ends: it is told by characters 4, 5, 8 and 10 (YYYY-MM-DD, YYYYMMDD,
    /// YYYY-Www, YYYYWww, YYYY-Www-D, YYYYWwwD); none when it cannot be.
    [[nodiscard]] constexpr auto separator() const noexcept -> std::optional<std::size_t> {
        const auto len = s_.size();
        if (len == 7) return 7;
        if (at(4) == '-') {
            if (at(5) != 'W') return 10;
            if (len > 8 && at(8) == '-') {
                if (len == 9) return std::nullopt;
                return len > 10 && is_digit(at(10)) ? 8 : 10;
            }
            return 8;
        }
        if (at(4) != 'W') return 8;
        std::size_t idx = 7;
        while (idx < len && is_digit(at(idx))) ++idx;
        if (idx < 9) return idx;
        return idx % 2 == 0 ? 7 : 8;
    }

    /// The date before `end`: calendar (YYYY-MM-DD, YYYYMMDD) or ISO week (YYYY-Www[-D],
    /// YYYYWww[D]), the dash used everywhere or nowhere; a valid day from 0001-01-01 to
    /// 9999-12-31.
    [[nodiscard]] auto calendar_date(std::size_t end) const -> std::optional<allocation::date> {
        std::size_t p = 0;
        int y = 0;
        if (!digits(p, y, 4)) return std::nullopt;
        const bool dashes = at(p) == '-';
        if (dashes) ++p;
        if (at(p) == 'W') {
            ++p;
            int week = 0;
            int day = 1;
            if (!digits(p, week, 2)) return std::nullopt;
            if (p < end) {
                if (dashes && at(p++) != '-') return std::nullopt;
                day = 0;
                if (!digits(p, day, 1)) return std::nullopt;
            }
            return iso_week_date(y, week, day);
        }
        int m = 0;
        int d = 0;
        if (!digits(p, m, 2)) return std::nullopt;
        if (dashes && at(p++) != '-') return std::nullopt;
        if (!digits(p, d, 2)) return std::nullopt;
        return valid(y, m, d);
    }

    static auto valid(int y, int m, int d) -> std::optional<allocation::date> {
        if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1) return std::nullopt;
        const allocation::date ymd{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(m)},
                                   std::chrono::day{static_cast<unsigned>(d)}};
        if (!ymd.ok()) return std::nullopt;
        return ymd;
    }

    /// Day `day` (1 = Monday) of ISO week `week` of `year`; week 53 only in years that have it.
    static auto iso_week_date(int year, int week, int day) -> std::optional<allocation::date> {
        if (year < 1 || year > 9999) return std::nullopt;
        const std::chrono::sys_days jan1{std::chrono::year{year} / std::chrono::January / 1};
        const auto first_weekday = static_cast<int>(std::chrono::weekday{jan1}.iso_encoding()) - 1;  // Monday 0
        const bool has_week_53 = first_weekday == 3 || (first_weekday == 2 && std::chrono::year{year}.is_leap());
        if (week < 1 || week > 53 || (week == 53 && !has_week_53)) return std::nullopt;
        if (day < 1 || day > 7) return std::nullopt;
        auto monday = jan1 - std::chrono::days{first_weekday};
        if (first_weekday > 3) monday += std::chrono::days{7};
        const allocation::date ymd{monday + std::chrono::days{(week - 1) * 7 + day - 1}};
        if (static_cast<int>(ymd.year()) < 1 || static_cast<int>(ymd.year()) > 9999) return std::nullopt;
        return ymd;
    }

    struct clock_time {
        int hour = 0, minute = 0, second = 0, microsecond = 0;
    };
    enum class ending { at_end, more, bad };

    /// HH[:MM[:SS[{.,}f+]]] or HH[MM[SS[{.,}f+]]] from `p` to `end`.
    auto hh_mm_ss_ff(std::size_t p, std::size_t end, clock_time& t) const -> ending {
        int* parts[3] = {&t.hour, &t.minute, &t.second};
        bool colons = true;
        for (std::size_t i = 0; i < 3; ++i) {
            if (!digits(p, *parts[i], 2)) return ending::bad;
            const char c = at(p++);
            if (i == 0) colons = c == ':';
            if (p >= end) return c != '\0' ? ending::more : ending::at_end;
            if (colons && c == ':') continue;
            if (c == '.' || c == ',') break;
            if (colons) return ending::bad;
            --p;
        }
        const std::size_t n = end - p < 6 ? end - p : 6;
        if (!digits(p, t.microsecond, n)) return ending::bad;
        for (std::size_t i = n; i < 6; ++i) t.microsecond *= 10;
        while (is_digit(at(p))) ++p;  // digits past the sixth are dropped
        return at(p) != '\0' ? ending::more : ending::at_end;
    }

    /// The time after the separator at `sep`: a valid time of day, then nothing, `Z` or an
    /// offset [+-]HH[:MM[:SS[.f+]]] strictly within a day.
    [[nodiscard]] auto time_of_day(std::size_t sep) const -> bool {
        const auto lead = static_cast<unsigned char>(at(sep));
        std::size_t start = sep + 1;
        if ((lead & 0x80U) != 0) start = sep + ((lead & 0xF0U) == 0xE0U ? 3 : (lead & 0xF0U) == 0xF0U ? 4 : 2);
        const auto end = s_.size();
        if (start > end) return false;
        std::size_t tz = start;
        do {
            if (at(tz) == 'Z' || at(tz) == '+' || at(tz) == '-') break;
        } while (++tz < end);
        clock_time t;
        const auto clock = hh_mm_ss_ff(start, tz, t);
        if (clock == ending::bad || t.hour > 23 || t.minute > 59 || t.second > 59) return false;
        if (tz >= end) return clock == ending::at_end;
        if (at(tz) == 'Z') return at(tz + 1) == '\0';
        clock_time offset;
        if (hh_mm_ss_ff(tz + 1, end, offset) != ending::at_end) return false;
        return std::abs(offset.hour * 3600 + offset.minute * 60 + offset.second) < 86400;
    }

    std::string_view s_;
};

}  // namespace detail

/// The date part of `text` read as Python 3.11's `datetime.fromisoformat` reads it (the
/// reference service's parser of `eta`): `2011-01-02`, `20110102`, `2011-W01-2`, each optionally
/// followed by any one separator character and a time `HH[:MM[:SS[.ffffff]]]` with `Z` or an
/// offset; the time zone does not move the date. None for every text Python refuses.
[[nodiscard]] inline auto date_from_isoformat(std::string_view text) -> std::optional<date> {
    return detail::isoformat_reader(text).date();
}

}  // namespace allocation::service

#endif  // ALLOCATION_SERVICE_ISO_DATE_HPP
