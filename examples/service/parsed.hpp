// allocation-service — a decoded request or why it was refused (an HTTP status and a message).
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_SERVICE_PARSED_HPP
#define ALLOCATION_SERVICE_PARSED_HPP

#include <string>   // string
#include <utility>  // move
#include <variant>  // variant, get

namespace allocation::service {

/// Why a request is refused: an HTTP status and a message for people.
struct api_error {
    int status = 400;
    std::string message;
    friend auto operator==(const api_error&, const api_error&) -> bool = default;
};

/// A parsed request, or why it was refused.
template <class T>
class parsed {
public:
    parsed(T value) : v_(std::move(value)) {}           // NOLINT(google-explicit-constructor)
    parsed(api_error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
    [[nodiscard]] explicit operator bool() const noexcept { return v_.index() == 0; }
    [[nodiscard]] auto value() & -> T& { return std::get<0>(v_); }
    [[nodiscard]] auto value() && -> T&& { return std::get<0>(std::move(v_)); }
    [[nodiscard]] auto value() const& -> const T& { return std::get<0>(v_); }
    [[nodiscard]] auto error() const& -> const api_error& { return std::get<1>(v_); }

private:
    std::variant<T, api_error> v_;
};

}  // namespace allocation::service

#endif  // ALLOCATION_SERVICE_PARSED_HPP
