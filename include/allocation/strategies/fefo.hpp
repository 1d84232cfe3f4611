// allocation — first expiry, first out: the batch that expires first is allocated first, and an
// expired batch never is.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_STRATEGIES_FEFO_HPP
#define ALLOCATION_STRATEGIES_FEFO_HPP

#include <algorithm>  // partition_point
#include <chrono>     // system_clock, floor, days
#include <cstddef>    // size_t
#include <memory>     // shared_ptr, make_shared
#include <optional>   // optional
#include <span>       // span

#include <allocation/domain/types.hpp>
#include <allocation/domain/batch.hpp>
#include <allocation/fwd.hpp>
#include <allocation/strategies/fwd.hpp>
#include <allocation/strategies/strategy.hpp>
#include <allocation/strategies/warehouse_first.hpp>

namespace allocation {

/// Today's date (UTC) from std::chrono::system_clock.
struct system_calendar {
    [[nodiscard]] auto today() const -> date {
        return date{std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now())};
    }
};

/// A calendar that says the date it was set to, for tests and simulations. Copies share the
/// date, so setting it moves time for every strategy holding a copy (a product's, too).
/// Not thread-safe: set it while no product allocates with it.
class manual_calendar {
public:
    /// A calendar at 1970-01-01.
    manual_calendar() : day_(std::make_shared<date>(std::chrono::sys_days{})) {}
    explicit manual_calendar(date day) : day_(std::make_shared<date>(day)) {}

    [[nodiscard]] auto today() const noexcept -> date { return *day_; }
    void set(date day) noexcept { *day_ = day; }

private:
    std::shared_ptr<date> day_;
};

/// First expiry, first out. Batches that expire sooner are allocated first, batches without an
/// expiry date last; ties follow warehouse_first (stock on hand, then earliest ETA), then the
/// order batches were added in. A batch whose expiry date is before the calendar's today is
/// never allocated (one expiring today still is).
///
/// Its index is the default ordered one without the expiry in the cached values: sorted by
/// expiry, the expired batches are a prefix of the order, found by binary search when
/// allocating, so the strategy stays O(log B) and correct as days pass with no batch changing.
/// @tparam Calendar has `today()` returning a date (system_calendar, manual_calendar).
template <class Calendar>
struct basic_fefo {
    /// The order depends only on what is fixed when a batch is added (stable_batch_preference).
    static constexpr bool stable_preference = true;

    Calendar calendar{};

    template <class Batch>
    [[nodiscard]] constexpr auto prefers(const Batch& a, const Batch& b) const noexcept -> bool {
        if (a.expires() != b.expires()) {
            if (!a.expires()) return false;
            if (!b.expires()) return true;
            return *a.expires() < *b.expires();
        }
        return warehouse_first{}.prefers(a, b);
    }

    /// Whether `b` may be allocated today: it has no expiry date, or it is not past it.
    template <class Batch>
    [[nodiscard]] auto eligible(const Batch& b) const -> bool {
        return !expired(b, calendar.today());
    }

    /// Whether `b` is past its expiry date on `today`.
    template <class Batch, class Date>
    [[nodiscard]] static constexpr auto expired(const Batch& b, const Date& today) noexcept -> bool {
        return b.expires() && *b.expires() < today;
    }

    /// The ordered index, searched from the first batch that has not expired.
    template <class Batch>
    class index {
    public:
        void rebuild(const basic_fefo& s, std::span<const Batch> batches) { inner_.rebuild(by_order{&s}, batches); }
        void update(const basic_fefo& s, std::span<const Batch> batches, std::size_t i) {
            inner_.update(by_order{&s}, batches, i);
        }
        [[nodiscard]] auto find(const basic_fefo& s, std::span<const Batch> batches,
                                typename Batch::quantity_type q) const -> std::optional<std::size_t> {
            return inner_.find_from(first_unexpired(s, batches), q);
        }
        template <class Parts>
        auto plan_split(const basic_fefo& s, std::span<const Batch> batches, typename Batch::quantity_type q,
                        Parts& out) const -> bool {
            return inner_.plan_split_from(first_unexpired(s, batches), batches, q, out);
        }

    private:
        // The strategy's order without its eligibility: the tree caches available quantities
        // only, which do not change when a day passes.
        struct by_order {
            const basic_fefo* s;
            [[nodiscard]] auto prefers(const Batch& a, const Batch& b) const noexcept -> bool {
                return s->prefers(a, b);
            }
        };

        [[nodiscard]] auto first_unexpired(const basic_fefo& s, std::span<const Batch> batches) const
            -> std::size_t {
            const auto order = inner_.order();
            if (order.empty() || !batches[order.front()].expires()) return 0;  // nothing expires first
            const auto today = s.calendar.today();
            const auto it = std::partition_point(order.begin(), order.end(),
                                                 [&](std::uint32_t i) { return expired(batches[i], today); });
            return static_cast<std::size_t>(it - order.begin());
        }

        detail::ordered_index<Batch> inner_;
    };
};

static_assert(allocation_strategy<fefo, batch>);
static_assert(allocation_strategy<basic_fefo<manual_calendar>, batch>);

}  // namespace allocation

#endif  // ALLOCATION_STRATEGIES_FEFO_HPP
