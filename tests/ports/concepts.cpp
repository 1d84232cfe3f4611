// allocation — the ports' concepts: which types model them and which do not (after
// boost-ext/sml's test/ut/concepts.cpp). Everything here is checked at compile time.
// SPDX-License-Identifier: MIT
#include <allocation/allocation.hpp>

#include <doctest/doctest.h>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

using namespace allocation;

namespace {

// -- repositories --------------------------------------------------------------------------------

// Every member a repository needs.
struct full_repository {
    using product_type = product;
    auto add(product) -> result<void> { return success(); }
    auto get(const sku&) -> result<product*> { return static_cast<product*>(nullptr); }
    auto get_by_batch_ref(const batch_ref&) -> result<product*> { return static_cast<product*>(nullptr); }
    auto seen() const -> std::vector<product*> { return {}; }
};
struct repository_without_product_type {
    auto add(product) -> result<void>;
    auto get(const sku&) -> result<product*>;
    auto get_by_batch_ref(const batch_ref&) -> result<product*>;
    auto seen() const -> std::vector<product*>;
};
struct repository_without_add {
    using product_type = product;
    auto get(const sku&) -> result<product*>;
    auto get_by_batch_ref(const batch_ref&) -> result<product*>;
    auto seen() const -> std::vector<product*>;
};
struct repository_add_returns_bool {
    using product_type = product;
    auto add(product) -> bool;
    auto get(const sku&) -> result<product*>;
    auto get_by_batch_ref(const batch_ref&) -> result<product*>;
    auto seen() const -> std::vector<product*>;
};
struct repository_get_returns_pointer {
    using product_type = product;
    auto add(product) -> result<void>;
    auto get(const sku&) -> product*;
    auto get_by_batch_ref(const batch_ref&) -> result<product*>;
    auto seen() const -> std::vector<product*>;
};
struct repository_get_by_string {
    using product_type = product;
    auto add(product) -> result<void>;
    auto get(const std::string&) -> result<product*>;
    auto get_by_batch_ref(const batch_ref&) -> result<product*>;
    auto seen() const -> std::vector<product*>;
};
struct repository_without_get_by_batch_ref {
    using product_type = product;
    auto add(product) -> result<void>;
    auto get(const sku&) -> result<product*>;
    auto seen() const -> std::vector<product*>;
};
struct repository_without_seen {
    using product_type = product;
    auto add(product) -> result<void>;
    auto get(const sku&) -> result<product*>;
    auto get_by_batch_ref(const batch_ref&) -> result<product*>;
};
struct repository_seeing_copies {
    using product_type = product;
    auto add(product) -> result<void>;
    auto get(const sku&) -> result<product*>;
    auto get_by_batch_ref(const batch_ref&) -> result<product*>;
    auto seen() const -> std::vector<product>;
};

// -- units of work ---------------------------------------------------------------------------------

struct full_unit_of_work {
    auto products() -> full_repository&;
    auto commit() -> result<void>;
    void rollback() noexcept;
    auto collect_new_events() -> std::vector<events::event>;
};
struct unit_of_work_without_commit {
    auto products() -> full_repository&;
    void rollback() noexcept;
    auto collect_new_events() -> std::vector<events::event>;
};
struct unit_of_work_commit_returns_bool {
    auto products() -> full_repository&;
    auto commit() -> bool;
    void rollback() noexcept;
    auto collect_new_events() -> std::vector<events::event>;
};
struct unit_of_work_rollback_may_throw {
    auto products() -> full_repository&;
    auto commit() -> result<void>;
    void rollback();
    auto collect_new_events() -> std::vector<events::event>;
};
struct unit_of_work_without_events {
    auto products() -> full_repository&;
    auto commit() -> result<void>;
    void rollback() noexcept;
};
struct unit_of_work_events_as_span {
    auto products() -> full_repository&;
    auto commit() -> result<void>;
    void rollback() noexcept;
    auto collect_new_events() -> std::span<const events::event>;
};
struct unit_of_work_over_no_repository {
    auto products() -> repository_without_seen&;
    auto commit() -> result<void>;
    void rollback() noexcept;
    auto collect_new_events() -> std::vector<events::event>;
};

struct full_factory {
    auto begin() -> full_unit_of_work;
};
struct factory_of_non_units {
    auto begin() -> unit_of_work_without_commit;
};
struct factory_without_begin {
    auto start() -> full_unit_of_work;
};

// -- notifications, publishers, read models ---------------------------------------------------------

struct notifications_returning_void {
    void send(std::string_view, std::string_view);
};
struct notifications_with_one_argument {
    auto send(std::string_view) -> result<void>;
};
struct notifications_of_ints {
    auto send(int, int) -> result<void>;
};

struct allocated_only_publisher {
    auto publish(std::string_view, const events::allocated&) -> result<void>;
};
struct publisher_returning_bool {
    auto publish(std::string_view, const events::allocated&) -> bool;
};
struct publisher_without_channel {
    auto publish(const events::allocated&) -> result<void>;
};

struct view_returning_rows {
    auto add(const order_id&, const sku&, const batch_ref&) -> result<void>;
    auto remove(const order_id&, const sku&) -> result<void>;
    auto get(const order_id&) -> std::vector<allocation_row>;
};
struct view_without_remove {
    auto add(const order_id&, const sku&, const batch_ref&) -> result<void>;
    auto get(const order_id&) -> result<std::vector<allocation_row>>;
};
struct view_add_returns_void {
    void add(const order_id&, const sku&, const batch_ref&);
    auto remove(const order_id&, const sku&) -> result<void>;
    auto get(const order_id&) -> result<std::vector<allocation_row>>;
};
struct full_view {
    auto add(const order_id&, const sku&, const batch_ref&) -> result<void>;
    auto remove(const order_id&, const sku&) -> result<void>;
    auto get(const order_id&) -> result<std::vector<allocation_row>>;
};

// -- strategies ----------------------------------------------------------------------------------

// Largest batch first, served by the default index.
struct largest_first {
    template <class Batch>
    auto prefers(const Batch& a, const Batch& b) const -> bool {
        return a.purchased() > b.purchased();
    }
};
// A strategy bringing its own index: the first batch that fits, by linear search.
struct first_fit {
    template <class Batch>
    auto prefers(const Batch&, const Batch&) const -> bool {
        return false;
    }
    template <class Batch>
    struct index {
        void rebuild(const first_fit&, std::span<const Batch>) {}
        void update(const first_fit&, std::span<const Batch>, std::size_t) {}
        auto find(const first_fit&, std::span<const Batch> batches, typename Batch::quantity_type q) const
            -> std::optional<std::size_t> {
            for (std::size_t i = 0; i < batches.size(); ++i) {
                if (batches[i].can_allocate(q)) return i;
            }
            return std::nullopt;
        }
    };
};
// Not strategies:
struct no_preference {};
struct preference_returning_void {
    template <class Batch>
    void prefers(const Batch&, const Batch&) const {}
};
struct preference_without_default_constructor {
    explicit preference_without_default_constructor(int) {}
    template <class Batch>
    auto prefers(const Batch&, const Batch&) const -> bool {
        return false;
    }
};
struct strategy_with_broken_index {
    template <class Batch>
    auto prefers(const Batch&, const Batch&) const -> bool {
        return false;
    }
    template <class Batch>
    struct index {  // find answers an int, not an optional index
        void rebuild(const strategy_with_broken_index&, std::span<const Batch>) {}
        void update(const strategy_with_broken_index&, std::span<const Batch>, std::size_t) {}
        auto find(const strategy_with_broken_index&, std::span<const Batch>, typename Batch::quantity_type) const
            -> int {
            return 0;
        }
    };
};

}  // namespace

TEST_SUITE("ports") {

TEST_CASE("repository: add, get by SKU, get by batch reference and the products seen") {
    static_assert(repository<memory::repository>);
    static_assert(repository<memory::basic_repository<basic_product<largest_first>>>);
    static_assert(repository<full_repository>);

    static_assert(!repository<int>);
    static_assert(!repository<repository_without_product_type>);
    static_assert(!repository<repository_without_add>);
    static_assert(!repository<repository_add_returns_bool>);
    static_assert(!repository<repository_get_returns_pointer>);
    static_assert(!repository<repository_get_by_string>);
    static_assert(!repository<repository_without_get_by_batch_ref>);
    static_assert(!repository<repository_without_seen>);
    static_assert(!repository<repository_seeing_copies>);

    // Each missing piece is its own named concept, so a diagnostic can say which one it is.
    static_assert(!adds_products<repository_add_returns_bool> && gets_products_by_sku<repository_add_returns_bool>);
    static_assert(!gets_products_by_sku<repository_get_returns_pointer>);
    static_assert(!gets_products_by_batch_ref<repository_without_get_by_batch_ref> &&
                  tracks_seen_products<repository_without_get_by_batch_ref>);
    static_assert(!tracks_seen_products<repository_seeing_copies> && gets_products_by_batch_ref<repository_seeing_copies>);
    CHECK(true);
}

TEST_CASE("unit_of_work: a repository, commit, rollback that cannot fail, and the new events") {
    static_assert(unit_of_work<memory::unit_of_work>);
    static_assert(unit_of_work<memory::basic_unit_of_work<basic_product<first_fit>>>);
    static_assert(unit_of_work<full_unit_of_work>);
    static_assert(std::same_as<product_t<full_unit_of_work>, product>);

    static_assert(!unit_of_work<int>);
    static_assert(!unit_of_work<memory::repository>);
    static_assert(!unit_of_work<unit_of_work_without_commit>);
    static_assert(!unit_of_work<unit_of_work_commit_returns_bool>);
    static_assert(!unit_of_work<unit_of_work_rollback_may_throw>);
    static_assert(!unit_of_work<unit_of_work_without_events>);
    static_assert(!unit_of_work<unit_of_work_events_as_span>);
    static_assert(!unit_of_work<unit_of_work_over_no_repository>);

    static_assert(!rolls_back<unit_of_work_rollback_may_throw> && commits<unit_of_work_rollback_may_throw>);
    static_assert(!commits<unit_of_work_commit_returns_bool> && rolls_back<unit_of_work_commit_returns_bool>);
    static_assert(!has_repository<unit_of_work_over_no_repository>);
    CHECK(true);
}

TEST_CASE("unit_of_work_factory: begin() starts a unit of work") {
    static_assert(unit_of_work_factory<memory::store>);
    static_assert(unit_of_work_factory<memory::basic_store<basic_product<largest_first>>>);
    static_assert(unit_of_work_factory<full_factory>);
    static_assert(std::same_as<unit_of_work_t<memory::store>, memory::unit_of_work>);

    static_assert(!unit_of_work_factory<int>);
    static_assert(!unit_of_work_factory<memory::unit_of_work>);
    static_assert(!unit_of_work_factory<factory_of_non_units>);
    static_assert(!unit_of_work_factory<factory_without_begin>);
    CHECK(true);
}

TEST_CASE("notifications: send(destination, message) answering result<void>") {
    static_assert(notifications<memory::notifications>);
    static_assert(notifications<no_notifications>);

    static_assert(!notifications<int>);
    static_assert(!notifications<notifications_returning_void>);
    static_assert(!notifications<notifications_with_one_argument>);
    static_assert(!notifications<notifications_of_ints>);
    static_assert(!notifications<memory::publisher>);
    CHECK(true);
}

TEST_CASE("event_publisher: publish(channel, event) for the events a publisher takes") {
    static_assert(event_publisher<memory::publisher, events::allocated>);
    static_assert(event_publisher<memory::publisher, events::deallocated>);
    static_assert(event_publisher<memory::publisher, events::out_of_stock>);
    static_assert(event_publisher<memory::publisher, events::low_stock>);
    static_assert(event_publisher<allocated_only_publisher, events::allocated>);

    static_assert(!event_publisher<allocated_only_publisher, events::out_of_stock>);
    static_assert(!event_publisher<memory::publisher, int>);
    static_assert(!event_publisher<no_publisher, events::allocated>);
    static_assert(!event_publisher<publisher_returning_bool, events::allocated>);
    static_assert(!event_publisher<publisher_without_channel, events::allocated>);
    static_assert(!event_publisher<memory::notifications, events::allocated>);
    CHECK(true);
}

TEST_CASE("allocations_view: add, remove and get an order's rows") {
    static_assert(allocations_view<memory::allocations_view>);
    static_assert(allocations_view<full_view>);

    static_assert(!allocations_view<int>);
    static_assert(!allocations_view<view_returning_rows>);
    static_assert(!allocations_view<view_without_remove>);
    static_assert(!allocations_view<view_add_returns_void>);
    static_assert(!allocations_view<memory::notifications>);
    CHECK(true);
}

TEST_CASE("allocation_strategy: a default-constructible preference served by an index") {
    static_assert(allocation_strategy<warehouse_first, batch>);
    static_assert(allocation_strategy<largest_first, batch>);
    static_assert(allocation_strategy<first_fit, batch>);
    static_assert(std::same_as<index_t<warehouse_first, batch>, detail::ordered_index<batch>>);
    static_assert(std::same_as<index_t<first_fit, batch>, first_fit::index<batch>>);

    static_assert(!allocation_strategy<int, batch>);
    static_assert(!allocation_strategy<no_preference, batch>);
    static_assert(!allocation_strategy<preference_returning_void, batch>);
    static_assert(!allocation_strategy<preference_without_default_constructor, batch>);
    static_assert(!allocation_strategy<strategy_with_broken_index, batch>);
    static_assert(batch_preference<strategy_with_broken_index, batch>);
    CHECK(true);
}

}  // TEST_SUITE("ports")
