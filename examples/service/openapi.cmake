# allocation-service — embeds openapi.json (the OpenAPI 3 document of the API, the one place it
# is written) into the header openapi_document.hpp in the build tree, for GET /openapi.json and
# the tests. Re-generated whenever openapi.json changes. Included by dependencies.cmake.
# SPDX-License-Identifier: MIT
include_guard(GLOBAL)
set(_openapi_source "${CMAKE_CURRENT_LIST_DIR}/openapi.json")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_openapi_source}")
file(READ "${_openapi_source}" ALLOCATION_SERVICE_OPENAPI_JSON)
string(FIND "${ALLOCATION_SERVICE_OPENAPI_JSON}" ")openapi\"" _openapi_delimiter)
if(NOT _openapi_delimiter EQUAL -1)
  message(FATAL_ERROR "openapi.json must not contain the raw string delimiter )openapi\"")
endif()
set(_openapi_dir "${CMAKE_BINARY_DIR}/generated/allocation-service")
file(CONFIGURE OUTPUT "${_openapi_dir}/openapi_document.hpp" @ONLY CONTENT [=[
// allocation-service — the OpenAPI 3 document of the API, generated from
// examples/service/openapi.json by examples/service/openapi.cmake. Do not edit.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_SERVICE_OPENAPI_DOCUMENT_HPP
#define ALLOCATION_SERVICE_OPENAPI_DOCUMENT_HPP

#include <string_view>

namespace allocation::service {

/// The text of examples/service/openapi.json, served as GET /openapi.json.
inline constexpr std::string_view openapi_document = R"openapi(@ALLOCATION_SERVICE_OPENAPI_JSON@)openapi";

}  // namespace allocation::service

#endif  // ALLOCATION_SERVICE_OPENAPI_DOCUMENT_HPP
]=])
target_include_directories(allocation_service_support INTERFACE "${_openapi_dir}")
