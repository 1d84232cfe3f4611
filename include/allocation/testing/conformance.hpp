// allocation — the adapter conformance kit: checks that any store (Repository / UnitOfWork /
// ProductReader adapter) runs to show it keeps the ports' promises, as doctest suites.
// SPDX-License-Identifier: MIT
//
// Include this header in one test source of your adapter (after doctest) and instantiate the
// suites with a harness type that makes fresh stores:
//
//     struct my_harness {
//         using store_type = my::store;                      // a unit_of_work_factory
//         auto make() -> std::unique_ptr<store_type>;        // a new, empty store
//         // optional: a second store on the same storage (another process, a restart)
//         auto reopen(store_type&) -> std::unique_ptr<store_type>;
//         // optional, for identifiers not made from text (integers, say): the id of a name the
//         // kit uses ("LAMP", "lamp-1", "o1"...), the same id for the same name, different ids
//         // for different names. Without them, ids are made as `Id{std::string(name)}`.
//         static auto sku(std::string_view name) -> sku_type;
//         static auto batch(std::string_view name) -> batch_ref_type;
//         static auto order(std::string_view name) -> order_id_type;
//     };
//     TEST_CASE_TEMPLATE_INVOKE(allocation_repository_conformance, my_harness);
//     TEST_CASE_TEMPLATE_INVOKE(allocation_unit_of_work_conformance, my_harness);
//     TEST_CASE_TEMPLATE_INVOKE(allocation_idempotency_conformance, my_harness);
//     TEST_CASE_TEMPLATE_INVOKE(allocation_concurrency_conformance, my_harness);
//     TEST_CASE_TEMPLATE_INVOKE(allocation_reader_conformance, my_harness);  // a product_reader
//     TEST_CASE_TEMPLATE_INVOKE(allocation_holds_conformance, my_harness);
//     TEST_CASE_TEMPLATE_INVOKE(allocation_backorders_conformance, my_harness);
//
// Each check is also a function returning a verdict (allocation::testing::checks), so a test can
// show that a broken store fails it. Parts that need the inbox capability
// (records_processed_messages), reopen() or product_reader are skipped when the store lacks them.
//
// The unit of work's contract the checks hold a store to:
// - A unit of work is all or nothing: commit() keeps every change or none (it then fails);
//   rollback(), or destruction without commit(), keeps none. A unit of work can be used again
//   after commit() and after rollback(): it then starts afresh from what is committed, and a
//   product changed and rolled back is seen unchanged by its next get().
// - Two units of work changing one product are serialised: the second either cannot get the
//   product while the first holds it (errc::conflict from get(), pessimistic) or fails its
//   commit with errc::conflict after the first committed (optimistic). The same holds for a
//   product the second only read: a commit is never acknowledged for an answer given from a
//   product another writer changed meanwhile.
// - Two units of work creating one new SKU: at most one succeeds; the other fails at add() or
//   at commit() (errc::conflict or errc::duplicate_product), and nothing of it is kept.
// - A batch is found by its reference (get_by_batch_ref) as soon as its commit is, whether its
//   product was new or existed.
// - collect_new_events() gives the events of what was committed, once, in the order raised:
//   also the events of a product whose command changed nothing (OutOfStock), never those of
//   what was rolled back.
// - A store that models product_reader reads committed state only, without waiting for or
//   failing because of a unit of work that holds a product.
// The checks interleave units of work by hand on one thread, so they do not depend on timing;
// only the concurrency suite runs threads. The store must make a second unit of work that asks
// for a product held by another fail at once (a lock timeout of 0) or at commit (versions).
#ifndef ALLOCATION_TESTING_CONFORMANCE_HPP
#define ALLOCATION_TESTING_CONFORMANCE_HPP

#include <atomic>       // atomic
#include <chrono>       // seconds
#include <cstddef>      // size_t
#include <cstdint>      // int64_t, uint64_t
#include <functional>   // function
#include <memory>       // unique_ptr
#include <string>       // string
#include <string_view>  // string_view
#include <thread>       // thread
#include <utility>      // pair
#include <variant>      // holds_alternative
#include <vector>       // vector

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <allocation/bus/bootstrap.hpp>
#include <allocation/bus/handlers.hpp>
#include <allocation/bus/message_bus.hpp>
#include <allocation/domain/commands.hpp>
#include <allocation/domain/events.hpp>
#include <allocation/error.hpp>
#include <allocation/ports/inbox.hpp>
#include <allocation/ports/product_reader.hpp>
#include <allocation/ports/unit_of_work.hpp>

namespace allocation::testing {

/// What a check found: passed, or the expectations that failed.
class verdict {
public:
    /// Records `what` as failed unless `ok`; returns `ok`.
    auto expect(bool ok, std::string_view what) -> bool {
        if (!ok) failures_.emplace_back(what);
        return ok;
    }
    [[nodiscard]] auto passed() const noexcept -> bool { return failures_.empty(); }
    /// The failed expectations, one per line.
    [[nodiscard]] auto text() const -> std::string {
        std::string out;
        for (const auto& f : failures_) out += f + "\n";
        return out;
    }

private:
    std::vector<std::string> failures_;
};

/// The types a harness's store works with.
template <class Harness>
struct kit_types {
    using store_type = typename Harness::store_type;
    using uow_type = unit_of_work_t<store_type>;
    using product_type = product_t<uow_type>;
    using traits = typename product_type::traits_type;
    using sku_type = typename traits::sku_type;
    using batch_ref_type = typename traits::batch_ref_type;
    using order_id_type = typename traits::order_id_type;
    using quantity_type = typename traits::quantity_type;
};

/// Whether the harness can open a second store on the same storage.
template <class Harness>
concept reopens = requires(Harness& h, typename Harness::store_type& s) {
    { h.reopen(s) };
};

/// The ids and quantities the checks use, made by the harness or from text.
template <class Harness>
struct kit_values : kit_types<Harness> {
    using t = kit_types<Harness>;
    static auto sku(std::string_view name) -> typename t::sku_type {
        if constexpr (requires { Harness::sku(name); }) return Harness::sku(name);
        else return typename t::sku_type{std::string(name)};
    }
    static auto batch(std::string_view name) -> typename t::batch_ref_type {
        if constexpr (requires { Harness::batch(name); }) return Harness::batch(name);
        else return typename t::batch_ref_type{std::string(name)};
    }
    static auto order(std::string_view name) -> typename t::order_id_type {
        if constexpr (requires { Harness::order(name); }) return Harness::order(name);
        else return typename t::order_id_type{std::string(name)};
    }
    static auto qty(std::int64_t n) -> typename t::quantity_type {
        return allocation::detail::make_quantity<typename t::quantity_type>(n);
    }
};

/// The product `code` of a unit of work, added when it is new; null when either fails.
template <class Harness, class Uow>
auto get_or_add(Uow& uow, std::string_view code) -> typename kit_types<Harness>::product_type* {
    using v = kit_values<Harness>;
    auto found = uow.products().get(v::sku(code));
    if (!found) return nullptr;
    if (found.value() != nullptr) return found.value();
    if (!uow.products().add(typename v::product_type{v::sku(code)})) return nullptr;
    auto added = uow.products().get(v::sku(code));
    return added ? added.value() : nullptr;
}

/// Commits a product `code` with one warehouse batch per entry of `batches` (name, units);
/// false when that fails.
template <class Harness, class Store>
auto seed(Store& store, std::string_view code, std::initializer_list<std::pair<const char*, std::int64_t>> batches)
    -> bool {
    using v = kit_values<Harness>;
    auto uow = store.begin();
    auto* p = get_or_add<Harness>(uow, code);
    if (p == nullptr) return false;
    for (const auto& [ref, units] : batches) {
        if (!p->add_batch(v::batch(ref), v::qty(units))) return false;
    }
    if (!uow.commit()) return false;
    (void)uow.collect_new_events();
    return true;
}

/// The units allocated over every batch of a committed product (-1 when unknown or when a
/// batch holds more than it has).
template <class Harness, class Store>
auto allocated_units(Store& store, std::string_view code) -> std::int64_t {
    auto uow = store.begin();
    auto found = uow.products().get(kit_values<Harness>::sku(code));
    if (!found || found.value() == nullptr) return -1;
    std::int64_t total = 0;
    for (const auto& b : found.value()->batches()) {
        if (b.purchased() < b.allocated()) return -1;
        total += allocation::detail::count(b.allocated());
    }
    return total;
}

/// A named check: a function of a harness returning a verdict.
template <class Harness>
struct check {
    const char* name;
    verdict (*run)(Harness&);
};

/// The checks of each suite, as functions a test can run on any harness.
template <class Harness>
struct checks {
    using v = kit_values<Harness>;
    using t = kit_types<Harness>;
    using product_type = typename t::product_type;
    using cmd_allocate = commands::basic_allocate<typename t::traits>;
    using cmd_deallocate = commands::basic_deallocate<typename t::traits>;
    using cmd_order = commands::basic_allocate_order<typename t::traits>;

    // A fresh store with LAMP (lamp-1: 10 units), or none (and a failed verdict).
    static auto lamp_store(Harness& h, verdict& out) -> std::unique_ptr<typename t::store_type> {
        auto store = h.make();
        if (!out.expect(store != nullptr, "the harness makes a store")) return nullptr;
        if (!out.expect(seed<Harness>(*store, "LAMP", {{"lamp-1", 10}}), "a product is seeded")) return nullptr;
        return store;
    }

    // The product `code` got by `uow`, or null (and a failed expectation `what`).
    template <class Uow>
    static auto product_of(Uow& uow, std::string_view code, verdict& out, std::string_view what = "the product is found")
        -> product_type* {
        auto p = uow.products().get(v::sku(code));
        return out.expect(p && p.value() != nullptr, what) ? p.value() : nullptr;
    }

    // Whether `uow` finds the batch `ref` as one of product `code` (a failed expectation `what` when not).
    template <class Uow>
    static auto finds_batch_of(Uow& uow, std::string_view ref, std::string_view code, verdict& out,
                               std::string_view what) -> bool {
        auto found = uow.products().get_by_batch_ref(v::batch(ref));
        return out.expect(found && found.value() != nullptr && found.value()->sku() == v::sku(code), what);
    }

    // -- repository ------------------------------------------------------------------------

    static auto finds_by_sku(Harness& h) -> verdict {
        verdict out;
        auto store = h.make();
        if (!out.expect(seed<Harness>(*store, "LAMP", {{"lamp-1", 10}, {"lamp-2", 5}}), "a product is seeded")) {
            return out;
        }
        auto uow = store->begin();
        auto* found = product_of(uow, "LAMP", out, "a known SKU gives its product");
        if (found == nullptr) return out;
        const auto batches = found->batches();
        if (!out.expect(batches.size() == 2, "the product has its two batches")) return out;
        out.expect(batches[0].ref() == v::batch("lamp-1") && batches[1].ref() == v::batch("lamp-2"),
                   "batches come in insertion order");
        out.expect(batches[1].purchased() == v::qty(5), "a batch keeps its quantity");
        auto none = uow.products().get(v::sku("NOPE"));
        out.expect(none && none.value() == nullptr, "an unknown SKU gives no product");
        return out;
    }

    static auto finds_by_batch_ref(Harness& h) -> verdict {
        verdict out;
        auto store = lamp_store(h, out);
        if (!store) return out;
        auto uow = store->begin();
        finds_batch_of(uow, "lamp-1", "LAMP", out,
                       "a batch reference gives the product owning it");
        auto none = uow.products().get_by_batch_ref(v::batch("nope"));
        out.expect(none && none.value() == nullptr, "an unknown batch reference gives none");
        return out;
    }

    static auto finds_what_it_added(Harness& h) -> verdict {
        verdict out;
        auto store = h.make();
        auto uow = store->begin();
        if (!out.expect(static_cast<bool>(uow.products().add(product_type{v::sku("DESK")})), "a new SKU is added")) {
            return out;
        }
        auto* mine = product_of(uow, "DESK", out, "an added product is found before commit");
        if (mine == nullptr) return out;
        out.expect(static_cast<bool>(mine->add_batch(v::batch("desk-1"), v::qty(3))), "a batch is added");
        if (!out.expect(static_cast<bool>(uow.commit()), "the new product commits")) return out;
        auto other = store->begin();
        finds_batch_of(other, "desk-1", "DESK", out,
                       "a batch of a new product is found by reference after commit");
        return out;
    }

    static auto finds_a_batch_added_to_an_existing_product(Harness& h) -> verdict {
        verdict out;
        auto store = lamp_store(h, out);
        if (!store) return out;
        {
            auto uow = store->begin();
            auto* p = product_of(uow, "LAMP", out);
            if (p == nullptr) return out;
            out.expect(static_cast<bool>(p->add_batch(v::batch("lamp-late"), v::qty(2))), "a batch is added");
            if (!out.expect(static_cast<bool>(uow.commit()), "the new batch commits")) return out;
        }
        auto uow = store->begin();
        finds_batch_of(uow, "lamp-late", "LAMP", out,
                       "a batch added to an existing product is found by reference after commit");
        return out;
    }

    static auto refuses_a_known_sku(Harness& h) -> verdict {
        verdict out;
        auto store = lamp_store(h, out);
        if (!store) return out;
        auto uow = store->begin();
        out.expect(!uow.products().add(product_type{v::sku("LAMP")}), "adding a SKU that exists fails");
        return out;
    }

    static auto sees_what_it_handed_out(Harness& h) -> verdict {
        verdict out;
        auto store = lamp_store(h, out);
        if (!store || !out.expect(seed<Harness>(*store, "CHAIR", {{"chair-1", 1}}), "a second product")) return out;
        auto uow = store->begin();
        out.expect(uow.products().get(v::sku("LAMP")) && uow.products().get(v::sku("CHAIR")), "both are found");
        std::size_t n = 0;
        for (auto* p : uow.products().seen()) n += p != nullptr ? 1U : 0U;
        out.expect(n == 2, "every product handed out is seen");
        return out;
    }

    // -- unit of work ------------------------------------------------------------------------

    static auto keeps_nothing_without_commit(Harness& h) -> verdict {
        verdict out;
        auto store = lamp_store(h, out);
        if (!store) return out;
        {
            auto uow = store->begin();
            auto* p = product_of(uow, "LAMP", out);
            if (p == nullptr) return out;
            out.expect(static_cast<bool>(p->allocate({v::order("o1"), v::sku("LAMP"), v::qty(4)})),
                       "a line is allocated");
        }
        out.expect(allocated_units<Harness>(*store, "LAMP") == 0, "a unit of work ended without commit changes nothing");
        return out;
    }

    static auto starts_afresh_after_rollback(Harness& h) -> verdict {
        verdict out;
        auto store = lamp_store(h, out);
        if (!store) return out;
        auto uow = store->begin();
        auto* p = product_of(uow, "LAMP", out);
        if (p == nullptr) return out;
        out.expect(static_cast<bool>(p->allocate({v::order("o1"), v::sku("LAMP"), v::qty(4)})),
                   "a line is allocated");
        uow.rollback();
        auto* again = product_of(uow, "LAMP", out, "the product is found again after rollback");
        if (again == nullptr) return out;
        out.expect(again->find_line(v::order("o1")) == nullptr && again->available() == v::qty(10),
                   "a product rolled back is seen unchanged by the next get() of the same unit of work");
        out.expect(static_cast<bool>(again->allocate({v::order("o2"), v::sku("LAMP"), v::qty(1)})),
                   "the unit of work is used again");
        out.expect(static_cast<bool>(uow.commit()), "the reused unit of work commits");
        out.expect(allocated_units<Harness>(*store, "LAMP") == 1,
                   "a commit after a rollback keeps only what came after the rollback");
        return out;
    }

    static auto rolls_back_a_failed_command(Harness& h) -> verdict {
        verdict out;
        auto store = lamp_store(h, out);
        if (!store) return out;
        auto uow = store->begin();
        const cmd_order order{v::order("o1"), {{v::sku("LAMP"), v::qty(2)}, {v::sku("NOPE"), v::qty(1)}}};
        const auto r = handlers::allocate_order(order, uow);
        out.expect(!r && r.error() == errc::invalid_sku, "an order with an unknown SKU fails");
        uow.rollback();
        out.expect(uow.collect_new_events().empty(), "a failed command leaves no event");
        out.expect(allocated_units<Harness>(*store, "LAMP") == 0, "a failed command keeps nothing");
        return out;
    }

    static auto shows_what_was_committed(Harness& h) -> verdict {
        verdict out;
        auto store = lamp_store(h, out);
        if (!store) return out;
        std::uint64_t before = 0;
        {
            auto uow = store->begin();
            auto* p = product_of(uow, "LAMP", out);
            if (p == nullptr) return out;
            before = p->version();
        }
        auto uow = store->begin();
        out.expect(static_cast<bool>(handlers::allocate(cmd_allocate{v::order("o1"), v::sku("LAMP"), v::qty(4)}, uow)),
                   "a line is allocated and committed");
        out.expect(allocated_units<Harness>(*store, "LAMP") == 4, "committed changes are seen by the next unit of work");
        {
            auto next = store->begin();
            auto p = next.products().get(v::sku("LAMP"));
            out.expect(p && p.value() != nullptr && p.value()->version() > before, "the version a commit writes increases");
        }
        if constexpr (reopens<Harness>) {
            auto again = h.reopen(*store);
            out.expect(again && allocated_units<Harness>(*again, "LAMP") == 4,
                       "committed changes are seen by another store on the same storage");
        }
        return out;
    }

    static auto collects_events_once_after_commit(Harness& h) -> verdict {
        verdict out;
        auto store = lamp_store(h, out);
        if (!store) return out;
        auto uow = store->begin();
        auto* p = product_of(uow, "LAMP", out);
        if (p == nullptr) return out;
        out.expect(static_cast<bool>(p->allocate({v::order("o1"), v::sku("LAMP"), v::qty(1)})),
                   "a line is allocated");
        out.expect(uow.collect_new_events().empty(), "no event is collected before commit");
        if (!out.expect(static_cast<bool>(uow.commit()), "the unit of work commits")) return out;
        const auto first = uow.collect_new_events();
        out.expect(first.size() == 1 && std::holds_alternative<events::basic_allocated<typename t::traits>>(first.front()),
                   "the committed Allocated event is collected");
        out.expect(uow.collect_new_events().empty(), "events are collected once");
        auto other = store->begin();
        out.expect(other.collect_new_events().empty(), "another unit of work has no events");
        return out;
    }

    static auto collects_events_of_unchanged_products(Harness& h) -> verdict {
        verdict out;
        auto store = lamp_store(h, out);
        if (!store) return out;
        auto uow = store->begin();
        const auto r = handlers::allocate(cmd_allocate{v::order("o1"), v::sku("LAMP"), v::qty(11)}, uow);
        out.expect(!r && r.error() == errc::out_of_stock, "a line too big is out of stock");
        const auto got = uow.collect_new_events();
        out.expect(got.size() == 1 && std::holds_alternative<events::basic_out_of_stock<typename t::traits>>(got.front()),
                   "the OutOfStock event of a product that did not change is collected after commit");
        return out;
    }

    static auto drops_events_of_a_rollback(Harness& h) -> verdict {
        verdict out;
        auto store = lamp_store(h, out);
        if (!store) return out;
        auto uow = store->begin();
        auto* p = product_of(uow, "LAMP", out);
        if (p == nullptr) return out;
        out.expect(static_cast<bool>(p->allocate({v::order("o1"), v::sku("LAMP"), v::qty(1)})),
                   "a line is allocated");
        uow.rollback();
        out.expect(static_cast<bool>(uow.commit()), "an empty commit after rollback succeeds");
        out.expect(uow.collect_new_events().empty(), "events of a unit of work rolled back are never collected");
        out.expect(allocated_units<Harness>(*store, "LAMP") == 0, "nothing rolled back is kept");
        return out;
    }

    // Two units of work on `code` (10 units), interleaved by hand: the first changes it (`first_changes`) or
    // only reads it, the second changes it and commits first when it can get it.
    template <class OtherStore>
    static void serialises(typename t::store_type& store, OtherStore& other_store, std::string_view code,
                           bool first_changes, verdict& out) {
        const auto sku = v::sku(code);
        auto first = store.begin();
        auto p1 = first.products().get(sku);
        if (!out.expect(p1 && p1.value() != nullptr, "the first unit of work gets the product")) return;
        if (first_changes) {
            out.expect(static_cast<bool>(p1.value()->allocate({v::order("o1"), sku, v::qty(6)})),
                       "the first allocates");
        } else {
            out.expect(p1.value()->available() == v::qty(10), "the first reads the stock");
        }
        auto second = other_store.begin();
        auto p2 = second.products().get(sku);
        if (!p2) {  // pessimistic: the product is held by the first
            out.expect(p2.error() == errc::conflict, "a held product is refused with errc::conflict");
            out.expect(static_cast<bool>(first.commit()), "the holder commits");
            return;
        }
        if (!out.expect(p2.value() != nullptr, "the second unit of work gets the product")) return;
        out.expect(static_cast<bool>(p2.value()->allocate({v::order("o2"), sku, v::qty(6)})),
                   "the second allocates");
        if (first_changes) {  // optimistic: the first commits, the second finds another version
            out.expect(static_cast<bool>(first.commit()), "the first commits");
            const auto r = second.commit();
            out.expect(!r && r.error() == errc::conflict, "the second commit on a changed product is a conflict");
        } else {  // the second commits; the first's answer came from a product changed meanwhile
            out.expect(static_cast<bool>(second.commit()), "the second commits");
            const auto r = first.commit();
            out.expect(!r && r.error() == errc::conflict,
                       "a commit after reading a product another writer changed is a conflict");
        }
    }

    // serialises() on LAMP in `store`, then, when the harness reopens, on SOFA (10 units) across
    // `store` and a second store on the same storage.
    static void serialises_in_one_and_two_stores(Harness& h, typename t::store_type& store, bool first_changes,
                                                 verdict& out) {
        serialises(store, store, "LAMP", first_changes, out);
        if constexpr (reopens<Harness>) {
            auto other = h.reopen(store);
            if (!out.expect(other != nullptr && seed<Harness>(store, "SOFA", {{"sofa-1", 10}}), "a second store")) return;
            serialises(store, *other, "SOFA", first_changes, out);
        }
    }

    static auto serialises_two_writers(Harness& h) -> verdict {
        verdict out;
        auto store = lamp_store(h, out);
        if (!store) return out;
        serialises_in_one_and_two_stores(h, *store, true, out);
        out.expect(allocated_units<Harness>(*store, "LAMP") == 6, "one of the two writers' lines is kept");
        out.expect(!reopens<Harness> || allocated_units<Harness>(*store, "SOFA") == 6,
                   "in two stores on one storage, one of the two writers' lines is kept");
        return out;
    }

    static auto checks_the_version_of_products_only_read(Harness& h) -> verdict {
        verdict out;
        auto store = lamp_store(h, out);
        if (!store) return out;
        serialises_in_one_and_two_stores(h, *store, false, out);
        return out;
    }

    static auto keeps_one_of_two_creators(Harness& h) -> verdict {
        verdict out;
        auto store = h.make();
        auto first = store->begin();
        auto second = store->begin();
        const auto create = [&](auto& uow, const char* batch) -> bool {
            auto* p = get_or_add<Harness>(uow, "DESK");
            return p != nullptr && static_cast<bool>(p->add_batch(v::batch(batch), v::qty(3)));
        };
        if (!out.expect(create(first, "desk-a"), "the first creator stages the SKU")) return out;
        const bool second_staged = create(second, "desk-b");
        if (!out.expect(static_cast<bool>(first.commit()), "the first creator commits")) return out;
        const bool second_committed = second_staged && static_cast<bool>(second.commit());
        out.expect(!second_committed, "the second creator of a SKU another committed first is refused");
        auto uow = store->begin();
        auto* p = product_of(uow, "DESK", out, "the product exists");
        if (p == nullptr) return out;
        out.expect(p->find_batch(v::batch("desk-a")) != nullptr, "the first creator's batch is kept");
        out.expect(second_committed == (p->find_batch(v::batch("desk-b")) != nullptr),
                   "a batch acknowledged is never lost");
        return out;
    }

    static auto reports_a_held_product_as_a_conflict_to_retry(Harness& h) -> verdict {
        verdict out;
        auto store = lamp_store(h, out);
        if (!store) return out;
        auto bus = bootstrap(*store, bootstrap_options{.retry = {.attempts = 2, .backoff = std::chrono::microseconds{0}},
                                                       .log = [](std::string_view) {}});
        auto holder = store->begin();
        auto* held = product_of(holder, "LAMP", out, "the product is held");
        if (held == nullptr) return out;
        const auto meanwhile = bus.handle(cmd_allocate{v::order("o1"), v::sku("LAMP"), v::qty(2)});
        out.expect(meanwhile || meanwhile.error() == errc::conflict,
                   "a command on a held product succeeds (optimistic) or meets errc::conflict");
        holder.rollback();
        const auto after = bus.handle(cmd_allocate{v::order("o1"), v::sku("LAMP"), v::qty(2)});
        out.expect(static_cast<bool>(after), "the command succeeds once the product is let go");
        out.expect(allocated_units<Harness>(*store, "LAMP") == 2, "the line is allocated once");
        return out;
    }

    // -- idempotency -------------------------------------------------------------------------

    static auto answers_a_line_sent_again(Harness& h) -> verdict {
        verdict out;
        auto store = lamp_store(h, out);
        if (!store) return out;
        auto bus = bootstrap(*store);
        int allocated_events = 0;
        bus.template on<events::basic_allocated<typename t::traits>>([&](const auto&) { ++allocated_events; });
        const auto first = bus.handle(cmd_allocate{v::order("o1"), v::sku("LAMP"), v::qty(3)});
        const auto again = bus.handle(cmd_allocate{v::order("o1"), v::sku("LAMP"), v::qty(3)});
        out.expect(first && again && first.value() == again.value(), "a line sent again gets its batch");
        out.expect(allocated_events == 1, "a line sent again raises no second event");
        out.expect(allocated_units<Harness>(*store, "LAMP") == 3, "a line sent again is not allocated twice");
        const auto other = bus.handle(cmd_allocate{v::order("o1"), v::sku("LAMP"), v::qty(4)});
        out.expect(!other && other.error() == errc::conflicting_resubmission,
                   "a line sent again with another quantity is refused");
        return out;
    }

    static auto answers_a_message_id_from_its_inbox(Harness& h) -> verdict {
        verdict out;
        if constexpr (records_processed_messages<typename t::uow_type>) {
            auto store = lamp_store(h, out);
            if (!store) return out;
            auto bus = bootstrap(*store);
            cmd_allocate cmd{v::order("o1"), v::sku("LAMP"), v::qty(3)};
            cmd.message_id = "m-1";
            const auto first = bus.handle(cmd);
            out.expect(first && bus.handle(cmd_deallocate{v::order("o1"), v::sku("LAMP"), {}}), "allocated, deallocated");
            const auto again = bus.handle(cmd);
            out.expect(again && first && again.value() == first.value(),
                       "a message id processed before is answered with its stored result");
            out.expect(allocated_units<Harness>(*store, "LAMP") == 0, "a message id processed before changes nothing");
            if constexpr (reopens<Harness>) {
                auto reopened = h.reopen(*store);
                auto bus2 = bootstrap(*reopened);
                const auto after_restart = bus2.handle(cmd);
                out.expect(after_restart && first && after_restart.value() == first.value(),
                           "the stored result outlives the store");
            }
            cmd_order order{v::order("o2"), {{v::sku("LAMP"), v::qty(2)}}};
            order.message_id = "m-2";
            const auto placed = bus.handle(order);
            out.expect(placed && bus.handle(cmd_deallocate{v::order("o2"), v::sku("LAMP"), {}}), "an order, deallocated");
            const auto replayed = bus.handle(order);
            out.expect(replayed && placed && replayed.value() == placed.value(),
                       "an order's message id is answered with its stored allocations");
            cmd_allocate big{v::order("o3"), v::sku("LAMP"), v::qty(11)};
            big.message_id = "m-3";
            const auto refused = bus.handle(big);
            out.expect(!refused && refused.error() == errc::out_of_stock, "too big is out of stock");
            out.expect(seed<Harness>(*store, "LAMP", {{"lamp-2", 20}}), "more stock arrives");
            const auto stored = bus.handle(big);
            out.expect(!stored && stored.error() == errc::out_of_stock, "an out-of-stock answer is stored too");
        }
        return out;
    }

    static auto binds_a_message_id_to_its_message(Harness& h) -> verdict {
        verdict out;
        if constexpr (records_processed_messages<typename t::uow_type>) {
            const auto fails_with = [](const auto& r, errc e) { return !r && r.error() == e; };
            using cmd_batch = commands::basic_create_batch<typename t::traits>;
            using cmd_change = commands::basic_change_batch_quantity<typename t::traits>;
            auto store = lamp_store(h, out);
            if (!store) return out;
            auto bus = bootstrap(*store);
            cmd_allocate cmd{v::order("o1"), v::sku("LAMP"), v::qty(3)};
            cmd.message_id = "k-1";
            cmd.fingerprint = "fp-a";
            const auto first = bus.handle(cmd);
            out.expect(static_cast<bool>(first), "allocated under a message id and fingerprint");
            auto other = cmd;
            other.fingerprint = "fp-b";
            const auto reused = bus.handle(other);
            out.expect(!reused && reused.error() == errc::message_id_reused,
                       "the same message id with another fingerprint is refused");
            const auto again = bus.handle(cmd);
            out.expect(again && first && again.value() == first.value(), "the same id and fingerprint are answered again");
            out.expect(allocated_units<Harness>(*store, "LAMP") == 3, "nothing is done twice");

            cmd_allocate unknown{v::order("o2"), v::sku("SOFA"), v::qty(1)};
            unknown.message_id = "k-2";
            out.expect(fails_with(bus.handle(unknown), errc::invalid_sku), "an unknown SKU is refused");
            out.expect(seed<Harness>(*store, "SOFA", {{"sofa-1", 5}}), "the SKU arrives");
            out.expect(fails_with(bus.handle(unknown), errc::invalid_sku), "a refusal of the domain is answered again");
            out.expect(allocated_units<Harness>(*store, "SOFA") == 0, "a refusal answered again allocates nothing");

            cmd_change shrink{v::batch("lamp-1"), v::qty(8)};
            shrink.message_id = "k-3";
            shrink.fingerprint = "fp-shrink";
            out.expect(static_cast<bool>(bus.handle(shrink)), "a batch quantity changed under a message id");
            out.expect(static_cast<bool>(bus.handle(cmd_change{v::batch("lamp-1"), v::qty(9)})), "and changed again");
            out.expect(static_cast<bool>(bus.handle(shrink)), "a command answering nothing is answered again");
            cmd_batch batch{v::batch("lamp-9"), v::sku("LAMP"), v::qty(1)};
            batch.message_id = "k-3";
            batch.fingerprint = "fp-batch";
            out.expect(fails_with(bus.handle(batch), errc::message_id_reused),
                       "an id is bound to its message whatever the command");

            {
                auto uow = store->begin();
                const auto bound = handlers::record_refusal("k-4", "fp-c", uow);
                out.expect(bound && !bound.value(), "a refused message binds its id");
            }
            {
                auto uow = store->begin();
                const auto rebound = handlers::record_refusal("k-4", "fp-c", uow);
                out.expect(rebound && rebound.value(), "the same refused message finds its id bound");
            }
            cmd_allocate after{v::order("o4"), v::sku("LAMP"), v::qty(1)};
            after.message_id = "k-4";
            after.fingerprint = "fp-d";
            out.expect(fails_with(bus.handle(after), errc::message_id_reused), "an id bound by a refusal takes no other message");
            if constexpr (reopens<Harness>) {
                auto reopened = h.reopen(*store);
                auto bus2 = bootstrap(*reopened);
                const auto after_restart = bus2.handle(cmd);
                out.expect(after_restart && first && after_restart.value() == first.value(),
                           "the fingerprint outlives the store");
                out.expect(fails_with(bus2.handle(other), errc::message_id_reused), "and still tells messages apart");
            }
        }
        return out;
    }

    // -- concurrency -------------------------------------------------------------------------

    static auto never_oversells_under_threads(Harness& h) -> verdict {
        verdict out;
        auto store = h.make();
        if (!out.expect(seed<Harness>(*store, "LAMP", {{"lamp-1", 30}, {"lamp-2", 30}}), "a product is seeded")) {
            return out;
        }
        auto bus = bootstrap(*store, bootstrap_options{.retry = {.attempts = 40, .backoff = std::chrono::microseconds{1}},
                                                       .log = [](std::string_view) {}});
        constexpr int threads = 4;
        constexpr int per_thread = 25;
        std::atomic<int> allocated{0};
        std::atomic<int> refused{0};
        std::vector<std::thread> pool;
        for (int i = 0; i < threads; ++i) {
            pool.emplace_back([&, i] {
                for (int n = 0; n < per_thread; ++n) {
                    const auto name = fmt::format("t{}-{}", i, n);
                    if (bus.handle(cmd_allocate{v::order(name), v::sku("LAMP"), v::qty(1)})) {
                        ++allocated;
                    } else {
                        ++refused;
                    }
                }
            });
        }
        for (auto& th : pool) th.join();
        out.expect(allocated.load() + refused.load() == threads * per_thread, "every command is answered");
        out.expect(allocated.load() == 60, "every unit in stock is allocated, none more");
        out.expect(allocated_units<Harness>(*store, "LAMP") == allocated.load(), "what was acknowledged is stored");
        return out;
    }

    // -- reader ------------------------------------------------------------------------------

    static auto reads_committed_state(Harness& h) -> verdict {
        verdict out;
        if constexpr (product_reader<typename t::store_type, typename t::traits>) {
            auto store = h.make();
            if (!out.expect(seed<Harness>(*store, "LAMP", {{"lamp-1", 10}, {"lamp-2", 5}}), "a product is seeded")) {
                return out;
            }
            {
                auto uow = store->begin();
                out.expect(static_cast<bool>(handlers::allocate(cmd_allocate{v::order("o1"), v::sku("LAMP"), v::qty(4)}, uow)),
                           "a line is allocated");
            }
            auto uow = store->begin();
            const auto* p = product_of(uow, "LAMP", out);
            if (p == nullptr) return out;
            const auto state = store->read_product(v::sku("LAMP"));
            if (!out.expect(state && state.value(), "a committed product is read")) return out;
            const auto& s = *state.value();
            out.expect(s.version == p->version() && s.available == p->available(), "its version and stock are read");
            const auto order = p->preference_order();
            bool same = s.batches.size() == order.size();
            for (std::size_t i = 0; same && i < order.size(); ++i) {
                same = s.batches[i].ref == order[i]->ref() && s.batches[i].allocated == order[i]->allocated() &&
                       s.batches[i].purchased == order[i]->purchased();
            }
            out.expect(same, "its batches are read in preference order");
            uow.rollback();
            const auto none = store->read_product(v::sku("NOPE"));
            out.expect(none && !none.value(), "an unknown SKU reads as none");
            const auto b = store->read_batch(v::batch("lamp-2"));
            out.expect(b && b.value() && b.value()->sku == v::sku("LAMP") && b.value()->purchased == v::qty(5),
                       "a batch is read by reference");
            const auto nob = store->read_batch(v::batch("nope"));
            out.expect(nob && !nob.value(), "an unknown batch reads as none");
            const auto rows = store->read_allocations(v::order("o1"));
            out.expect(rows && rows.value().size() == 1 && rows.value()[0].sku == v::sku("LAMP") &&
                           rows.value()[0].qty == v::qty(4),
                       "an order's allocations are read");
            const auto norows = store->read_allocations(v::order("o9"));
            out.expect(norows && norows.value().empty(), "an order without allocations reads as none");
        }
        return out;
    }

    static auto reads_without_waiting_for_a_writer(Harness& h) -> verdict {
        verdict out;
        if constexpr (product_reader<typename t::store_type, typename t::traits>) {
            auto store = lamp_store(h, out);
            if (!store) return out;
            auto uow = store->begin();
            auto* p = product_of(uow, "LAMP", out, "a unit of work holds the product");
            if (p == nullptr) return out;
            out.expect(static_cast<bool>(p->allocate({v::order("o1"), v::sku("LAMP"), v::qty(4)})),
                       "it allocates, not committed yet");
            const auto state = store->read_product(v::sku("LAMP"));
            out.expect(state && state.value() && state.value()->available == v::qty(10),
                       "a product held by a unit of work is read, as committed");
            const auto b = store->read_batch(v::batch("lamp-1"));
            out.expect(b && b.value() && b.value()->allocated == v::qty(0), "a held product's batch is read, as committed");
            const auto rows = store->read_allocations(v::order("o1"));
            out.expect(rows && rows.value().empty(), "an uncommitted allocation is not read");
            if (!out.expect(static_cast<bool>(uow.commit()), "the holder commits after the reads")) return out;
            const auto after = store->read_product(v::sku("LAMP"));
            out.expect(after && after.value() && after.value()->available == v::qty(6), "the commit is read");
            const auto rows_after = store->read_allocations(v::order("o1"));
            out.expect(rows_after && rows_after.value().size() == 1, "the committed allocation is read");
        }
        return out;
    }

    // -- holds and backorders -----------------------------------------------------------------

    using line_type = typename product_type::line_type;

    static auto lamp_line(std::string_view order, std::int64_t qty) -> line_type {
        return line_type{v::order(order), v::sku("LAMP"), v::qty(qty)};
    }
    static constexpr timestamp start{std::chrono::seconds{1000}};

    // Holds `qty` of LAMP for `order` until start + 60 s and commits; false (and a failed
    // expectation) when either fails.
    template <class Store>
    static auto commit_hold(Store& store, std::string_view order, std::int64_t qty, verdict& out) -> bool {
        auto uow = store.begin();
        auto* p = product_of(uow, "LAMP", out);
        if (p == nullptr) return false;
        if (!out.expect(p->hold(lamp_line(order, qty), start + std::chrono::seconds{60}, start).has_value(),
                        "a hold is placed")) {
            return false;
        }
        return out.expect(uow.commit().has_value(), "the hold is committed");
    }

    static auto keeps_committed_holds(Harness& h) -> verdict {
        verdict out;
        auto store = lamp_store(h, out);
        if (!store || !commit_hold(*store, "o1", 4, out)) return out;
        auto uow = store->begin();
        auto* p = product_of(uow, "LAMP", out, "the product is found again");
        if (p == nullptr) return out;
        const auto* held = p->find_hold(v::order("o1"));
        out.expect(held != nullptr && held->qty == v::qty(4) && held->expires_at == start + std::chrono::seconds{60},
                   "a new unit of work finds the hold with its quantity and deadline");
        out.expect(p->available() == v::qty(6), "the held stock counts against what is available");
        out.expect(!p->allocate(lamp_line("o2", 7), start + std::chrono::seconds{1}),
                   "held stock is not allocated to another order");
        out.expect(p->allocate(lamp_line("o3", 7), start + std::chrono::seconds{60}).has_value(),
                   "from its deadline on the hold blocks nothing, unswept");
        uow.rollback();
        return out;
    }

    static auto discards_rolled_back_holds(Harness& h) -> verdict {
        verdict out;
        auto store = lamp_store(h, out);
        if (!store) return out;
        {
            auto uow = store->begin();
            auto* p = product_of(uow, "LAMP", out);
            if (p == nullptr) return out;
            out.expect(p->hold(lamp_line("o1", 4), start + std::chrono::seconds{60}, start).has_value(), "a hold is placed");
            uow.rollback();
        }
        if (!commit_hold(*store, "o2", 3, out)) return out;
        {
            auto uow = store->begin();
            auto* p = product_of(uow, "LAMP", out);
            if (p == nullptr) return out;
            out.expect(p->confirm_hold(v::order("o2"), std::nullopt, start).has_value(), "the hold is confirmed");
            uow.rollback();
        }
        auto uow = store->begin();
        auto* p = product_of(uow, "LAMP", out, "the product is found again");
        if (p == nullptr) return out;
        out.expect(p->find_hold(v::order("o1")) == nullptr, "a rolled-back hold is gone");
        out.expect(p->find_hold(v::order("o2")) != nullptr && p->find_line(v::order("o2")) == nullptr,
                   "a rolled-back confirmation leaves the hold and allocates nothing");
        out.expect(p->available() == v::qty(7), "only the committed hold counts");
        uow.rollback();
        return out;
    }

    static auto keeps_confirmed_holds(Harness& h) -> verdict {
        verdict out;
        auto store = lamp_store(h, out);
        if (!store || !commit_hold(*store, "o1", 4, out)) return out;
        {
            auto uow = store->begin();
            auto* p = product_of(uow, "LAMP", out);
            if (p == nullptr) return out;
            out.expect(p->confirm_hold(v::order("o1"), v::qty(3), start + std::chrono::seconds{1}).has_value(),
                       "part of the hold is confirmed");
            out.expect(uow.commit().has_value(), "the confirmation is committed");
        }
        auto uow = store->begin();
        auto* p = product_of(uow, "LAMP", out, "the product is found again");
        if (p == nullptr) return out;
        const auto* line = p->find_line(v::order("o1"));
        out.expect(line != nullptr && line->qty == v::qty(3) && p->batches()[line->parts.front().batch].ref() == v::batch("lamp-1"),
                   "the confirmed quantity is allocated in the batch that held it");
        out.expect(p->find_hold(v::order("o1")) == nullptr && p->available() == v::qty(7), "the rest is released");
        uow.rollback();
        return out;
    }

    static auto keeps_backorders(Harness& h) -> verdict {
        verdict out;
        auto store = lamp_store(h, out);
        if (!store) return out;
        {
            auto uow = store->begin();
            auto* p = product_of(uow, "LAMP", out);
            if (p == nullptr) return out;
            auto got = p->allocate_available(lamp_line("o1", 15), order_policy::backorder, 2);
            out.expect(got && got.value().backordered == v::qty(5), "what is missing is backordered");
            out.expect(uow.commit().has_value(), "the backorder is committed");
        }
        {
            auto uow = store->begin();
            auto* p = product_of(uow, "LAMP", out, "the product is found again");
            if (p == nullptr) return out;
            const auto queued = p->find_backorder(v::order("o1"));
            out.expect(queued && queued->qty == v::qty(5) && queued->priority == 2,
                       "a new unit of work finds the backorder with its quantity and priority");
            out.expect(p->add_batch(v::batch("lamp-2"), v::qty(8)).has_value(), "stock arrives");
            out.expect(uow.commit().has_value(), "the arrival is committed");
        }
        auto uow = store->begin();
        auto* p = product_of(uow, "LAMP", out, "the product is found once more");
        if (p == nullptr) return out;
        const auto* line = p->find_line(v::order("o1"));
        out.expect(p->backorder_count() == 0 && line != nullptr && line->qty == v::qty(15),
                   "the backorder was filled from the arrival and the fill kept");
        uow.rollback();
        return out;
    }

    static auto discards_rolled_back_backorders(Harness& h) -> verdict {
        verdict out;
        auto store = lamp_store(h, out);
        if (!store) return out;
        {
            auto uow = store->begin();
            auto* p = product_of(uow, "LAMP", out);
            if (p == nullptr) return out;
            out.expect(p->allocate_available(lamp_line("o1", 12), order_policy::backorder, 0).has_value(),
                       "an order is backordered");
            uow.rollback();
        }
        auto uow = store->begin();
        auto* p = product_of(uow, "LAMP", out, "the product is found again");
        if (p == nullptr) return out;
        out.expect(p->backorder_count() == 0 && p->find_line(v::order("o1")) == nullptr && p->available() == v::qty(10),
                   "a rolled-back backorder and its allocation are gone");
        uow.rollback();
        return out;
    }

    static auto reads_committed_holds_and_backorders(Harness& h) -> verdict {
        verdict out;
        if constexpr (product_reader<typename t::store_type, typename t::traits> &&
                      reads_holds<typename t::store_type, typename t::traits>) {
            auto store = lamp_store(h, out);
            if (!store || !commit_hold(*store, "o1", 4, out)) return out;
            {
                auto uow = store->begin();
                auto* p = product_of(uow, "LAMP", out);
                if (p == nullptr) return out;
                out.expect(p->allocate_available(lamp_line("o2", 8), order_policy::backorder, 3).has_value(),
                           "an order takes what is left and backorders the rest");
                out.expect(uow.commit().has_value(), "the backorder is committed");
            }
            const auto holds = store->read_holds(v::order("o1"));
            out.expect(holds && holds.value().size() == 1 && holds.value()[0].sku == v::sku("LAMP") &&
                           holds.value()[0].hold.qty == v::qty(4) && holds.value()[0].hold.batch == v::batch("lamp-1") &&
                           holds.value()[0].hold.expires_at == start + std::chrono::seconds{60},
                       "an order's hold is read with its SKU, quantity, batch and deadline");
            const auto none = store->read_holds(v::order("o2"));
            out.expect(none && none.value().empty(), "an order without a hold reads as none");
            const auto state = store->read_product(v::sku("LAMP"));
            if (!out.expect(state && state.value(), "the product is read")) return out;
            const auto& s = *state.value();
            out.expect(s.batches.size() == 1 && s.batches[0].held == v::qty(4) && s.available == v::qty(0) &&
                           s.holds.size() == 1 && s.holds[0].order == v::order("o1"),
                       "the product's state counts and lists the live hold");
            out.expect(s.backorders.size() == 1 && s.backorders[0].order == v::order("o2") &&
                           s.backorders[0].qty == v::qty(2) && s.backorders[0].priority == 3,
                       "the product's state lists the backorder with what it still owes");
            const auto later = s.at(start + std::chrono::seconds{60});
            out.expect(later.batches[0].held == v::qty(0) && later.available == v::qty(4) && later.holds.empty(),
                       "at its deadline the hold no longer counts in the state");
            {
                auto uow = store->begin();
                auto* p = product_of(uow, "LAMP", out);
                if (p == nullptr) return out;
                out.expect(p->release_hold(v::order("o1"), start + std::chrono::seconds{1}).has_value(), "the hold is released");
                out.expect(uow.commit().has_value(), "the release is committed");
            }
            const auto gone = store->read_holds(v::order("o1"));
            out.expect(gone && gone.value().empty(), "a released hold is not read");
            const auto after = store->read_product(v::sku("LAMP"));
            out.expect(after && after.value() && after.value()->holds.empty() && after.value()->backorders.empty() &&
                           after.value()->batches[0].allocated == v::qty(8) && after.value()->available == v::qty(2),
                       "the released stock filled the backorder, as the state reads");
        }
        return out;
    }

    static auto repository() -> std::vector<check<Harness>> {
        return {{"finds products by SKU", finds_by_sku},
                {"finds products by batch reference", finds_by_batch_ref},
                {"finds what it added, before and after commit", finds_what_it_added},
                {"finds a batch added to an existing product", finds_a_batch_added_to_an_existing_product},
                {"refuses a known SKU", refuses_a_known_sku},
                {"sees every product it handed out", sees_what_it_handed_out}};
    }
    static auto unit_of_work() -> std::vector<check<Harness>> {
        return {{"keeps nothing without commit", keeps_nothing_without_commit},
                {"starts afresh after a rollback", starts_afresh_after_rollback},
                {"rolls back a failed command", rolls_back_a_failed_command},
                {"shows what was committed", shows_what_was_committed},
                {"collects events once, after commit", collects_events_once_after_commit},
                {"collects events of unchanged products", collects_events_of_unchanged_products},
                {"drops the events of a rollback", drops_events_of_a_rollback},
                {"serialises two writers of one product", serialises_two_writers},
                {"checks the version of products only read", checks_the_version_of_products_only_read},
                {"keeps one of two creators of a SKU", keeps_one_of_two_creators},
                {"reports a held product as a conflict to retry", reports_a_held_product_as_a_conflict_to_retry}};
    }
    static auto idempotency() -> std::vector<check<Harness>> {
        return {{"answers a line sent again", answers_a_line_sent_again},
                {"answers a message id from its inbox", answers_a_message_id_from_its_inbox},
                {"binds a message id to its message", binds_a_message_id_to_its_message}};
    }
    static auto concurrency() -> std::vector<check<Harness>> {
        return {{"never oversells under threads", never_oversells_under_threads}};
    }
    static auto holds() -> std::vector<check<Harness>> {
        return {{"keeps committed holds", keeps_committed_holds},
                {"discards rolled-back holds", discards_rolled_back_holds},
                {"keeps confirmed holds", keeps_confirmed_holds}};
    }
    static auto backorders() -> std::vector<check<Harness>> {
        return {{"keeps backorders and their fills", keeps_backorders},
                {"discards rolled-back backorders", discards_rolled_back_backorders}};
    }
    static auto reader() -> std::vector<check<Harness>> {
        return {{"reads committed state", reads_committed_state},
                {"reads without waiting for a writer", reads_without_waiting_for_a_writer},
                {"reads committed holds and backorders", reads_committed_holds_and_backorders}};
    }
    /// Every check of every suite.
    static auto all() -> std::vector<check<Harness>> {
        std::vector<check<Harness>> out;
        for (auto suite : {repository(), unit_of_work(), idempotency(), concurrency(), reader(), holds(), backorders()}) {
            out.insert(out.end(), suite.begin(), suite.end());
        }
        return out;
    }
};

/// Runs checks on a fresh harness each, as doctest checks (one failure per failed check).
template <class Harness>
void run(const std::vector<check<Harness>>& list) {
    for (const auto& c : list) {
        Harness harness;
        const auto v = c.run(harness);
        CHECK_MESSAGE(v.passed(), fmt::format("{}:\n{}", c.name, v.text()));
    }
}

}  // namespace allocation::testing

TEST_CASE_TEMPLATE_DEFINE("an adapter's repository finds products by SKU and by batch reference", Harness,
                          allocation_repository_conformance) {
    allocation::testing::run<Harness>(allocation::testing::checks<Harness>::repository());
}

TEST_CASE_TEMPLATE_DEFINE("an adapter's unit of work commits all or nothing", Harness,
                          allocation_unit_of_work_conformance) {
    allocation::testing::run<Harness>(allocation::testing::checks<Harness>::unit_of_work());
}

TEST_CASE_TEMPLATE_DEFINE("an adapter answers a command sent again without doing it twice", Harness,
                          allocation_idempotency_conformance) {
    allocation::testing::run<Harness>(allocation::testing::checks<Harness>::idempotency());
}

TEST_CASE_TEMPLATE_DEFINE("an adapter's concurrent writers never oversell", Harness,
                          allocation_concurrency_conformance) {
    allocation::testing::run<Harness>(allocation::testing::checks<Harness>::concurrency());
}

TEST_CASE_TEMPLATE_DEFINE("an adapter keeps holds as it keeps allocations: committed, or rolled back whole", Harness,
                          allocation_holds_conformance) {
    allocation::testing::run<Harness>(allocation::testing::checks<Harness>::holds());
}

TEST_CASE_TEMPLATE_DEFINE("an adapter keeps backorders and their fills, committed or rolled back whole", Harness,
                          allocation_backorders_conformance) {
    allocation::testing::run<Harness>(allocation::testing::checks<Harness>::backorders());
}

TEST_CASE_TEMPLATE_DEFINE("an adapter's reads show what was committed without waiting for writers", Harness,
                          allocation_reader_conformance) {
    allocation::testing::run<Harness>(allocation::testing::checks<Harness>::reader());
}

#endif  // ALLOCATION_TESTING_CONFORMANCE_HPP
