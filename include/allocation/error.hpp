// allocation — error codes of the library, plugged into std::error_code, and result<T>.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_ERROR_HPP
#define ALLOCATION_ERROR_HPP

#include <string>        // string
#include <system_error>  // error_category, error_code, is_error_code_enum

#include <boost/outcome/std_result.hpp>
#include <fmt/format.h>

namespace allocation {

/// Everything that can go wrong in the library. Zero is never an error.
enum class errc {
    invalid_sku = 1,           ///< no product is known for the SKU
    out_of_stock,              ///< no batch can take the order line
    invalid_quantity,          ///< a quantity is not positive, or too large
    conflicting_resubmission,  ///< an allocated line was sent again with another quantity
    invalid_identifier,        ///< an identifier is empty, too long, not UTF-8 or has control characters
    unknown_batch,             ///< no batch has the reference
    duplicate_batch,           ///< a batch with the reference exists with other data
    not_allocated,             ///< the order line is not allocated
    quantity_mismatch,         ///< a deallocation named another quantity than the allocated one
    sku_mismatch,              ///< the line or batch names another SKU than the product
    empty_order,               ///< an order without lines
    conflict,                  ///< another writer changed the product first; retrying may succeed
    storage_error,             ///< the storage adapter failed
    duplicate_product,         ///< a product with the SKU exists already
    message_id_reused,         ///< a message id already processed was sent with another message
    hold_conflict,             ///< the order has a live hold with other lines, or the line is taken otherwise
    not_held,                  ///< the order has no live hold of the SKU
    hold_expired,              ///< the order's hold is past its deadline
    exceeds_hold,              ///< a confirmation asked for more than is held
    invalid_deadline,          ///< a hold's deadline is not after the time it is placed
    not_backordered,           ///< the order has no backorder of the SKU
};

}  // namespace allocation

template <>
struct std::is_error_code_enum<allocation::errc> : std::true_type {};

namespace allocation {

namespace detail {
struct error_category_impl final : std::error_category {
    [[nodiscard]] auto name() const noexcept -> const char* override { return "allocation"; }
    [[nodiscard]] auto message(int code) const -> std::string override {
        switch (static_cast<errc>(code)) {
            case errc::invalid_sku: return "unknown SKU";
            case errc::out_of_stock: return "no batch can take the order line";
            case errc::invalid_quantity: return "quantity must be between 1 and 2147483647";
            case errc::conflicting_resubmission: return "order line resent with another quantity";
            case errc::invalid_identifier:
                return "identifier must be 1 to 255 bytes of UTF-8 without control characters";
            case errc::unknown_batch: return "unknown batch reference";
            case errc::duplicate_batch: return "a batch with this reference exists with other data";
            case errc::not_allocated: return "order line is not allocated";
            case errc::quantity_mismatch: return "quantity differs from the allocated quantity";
            case errc::sku_mismatch: return "SKU differs from the product's SKU";
            case errc::empty_order: return "order has no lines";
            case errc::conflict: return "product was changed concurrently";
            case errc::storage_error: return "storage failed";
            case errc::duplicate_product: return "a product with this SKU exists";
            case errc::message_id_reused: return "message id was already used for another message";
            case errc::hold_conflict: return "the order has a live hold with other lines";
            case errc::not_held: return "the order has no live hold";
            case errc::hold_expired: return "the order's hold has expired";
            case errc::exceeds_hold: return "more than is held";
            case errc::invalid_deadline: return "a hold must expire after it is placed";
            case errc::not_backordered: return "the order line is not backordered";
        }
        return fmt::format("allocation error {}", code);
    }
};
}  // namespace detail

/// The category of errc; one instance per program.
inline auto error_category() noexcept -> const std::error_category& {
    static const detail::error_category_impl instance;
    return instance;
}

/// Makes errc usable as a std::error_code (found by ADL).
inline auto make_error_code(errc e) noexcept -> std::error_code {
    return {static_cast<int>(e), error_category()};
}

/// A value or a std::error_code. `[[nodiscard]]`; `.value()` on an error throws, so test first.
template <class T>
using result = BOOST_OUTCOME_V2_NAMESPACE::std_result<T>;

/// The success value of result<void>.
inline auto success() noexcept { return BOOST_OUTCOME_V2_NAMESPACE::success(); }

}  // namespace allocation

#endif  // ALLOCATION_ERROR_HPP
