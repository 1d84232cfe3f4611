# allocation-service — finds the service's dependencies and defines allocation_service_support,
# an INTERFACE target with the service headers and what they need (Boost.Beast and Boost.Asio
# through allocation::allocation's Boost, nlohmann-json, hiredis, threads, the SQLite adapter and,
# when libpqxx is found, the PostgreSQL adapter).
# Included by examples/service and tests/service; once per configure.
# SPDX-License-Identifier: MIT
include_guard(GLOBAL)

set(ALLOCATION_SERVICE_MISSING "")
find_package(Threads REQUIRED)
find_package(nlohmann_json 3.10 QUIET)
if(NOT TARGET nlohmann_json::nlohmann_json)
  list(APPEND ALLOCATION_SERVICE_MISSING "nlohmann-json (nlohmann-json3-dev)")
endif()
find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(allocation_service_hiredis QUIET IMPORTED_TARGET GLOBAL hiredis)
endif()
if(NOT TARGET PkgConfig::allocation_service_hiredis)
  list(APPEND ALLOCATION_SERVICE_MISSING "hiredis (libhiredis-dev)")
endif()
if(NOT TARGET allocation::sqlite)
  list(APPEND ALLOCATION_SERVICE_MISSING "SQLite (libsqlite3-dev)")
endif()

if(ALLOCATION_SERVICE_MISSING)
  list(JOIN ALLOCATION_SERVICE_MISSING ", " _missing)
  message(STATUS "allocation-service: not built, missing ${_missing}")
  return()
endif()

# Imported targets are directory-scoped; the tests link them from another directory.
set_target_properties(nlohmann_json::nlohmann_json PROPERTIES IMPORTED_GLOBAL TRUE)

add_library(allocation_service_support INTERFACE)
target_include_directories(allocation_service_support INTERFACE "${CMAKE_CURRENT_LIST_DIR}")
target_link_libraries(allocation_service_support INTERFACE
  allocation::allocation
  nlohmann_json::nlohmann_json
  PkgConfig::allocation_service_hiredis
  allocation::sqlite
  Threads::Threads)
# PostgreSQL (libpqxx) is optional: without it, a postgresql:// DATABASE_URL is refused.
if(TARGET allocation::postgres)
  target_link_libraries(allocation_service_support INTERFACE allocation::postgres)
  target_compile_definitions(allocation_service_support INTERFACE ALLOCATION_SERVICE_POSTGRES)
else()
  message(STATUS "allocation-service: built without PostgreSQL (libpqxx not found)")
endif()
include("${CMAKE_CURRENT_LIST_DIR}/openapi.cmake")  # the API document, embedded
