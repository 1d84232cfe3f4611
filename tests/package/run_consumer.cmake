# run_consumer.cmake — ctest driver for the package tests (see tests/package/CMakeLists.txt).
# SPDX-License-Identifier: MIT
# MODE=install:          cmake --install BUILD_DIR --prefix PREFIX (PREFIX emptied first).
# MODE=find_package:     configure, build and run CONSUMER_SOURCE in BINARY_DIR with
#                        CMAKE_PREFIX_PATH=PREFIX; allocation_DIR must be EXPECTED_DIR.
# MODE=add_subdirectory: the same with the consumer adding ALLOCATION_SOURCE as a subdirectory.
# The consumer's output must be EXPECTED_OUTPUT.
cmake_minimum_required(VERSION 3.21)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(NOT result EQUAL 0)
    list(JOIN ARGN " " command)
    message(FATAL_ERROR "failed (${result}): ${command}\n${output}")
  endif()
  set(output "${output}" PARENT_SCOPE)
endfunction()

if(MODE STREQUAL "install")
  file(REMOVE_RECURSE "${PREFIX}")
  run("${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}")
  message(STATUS "installed into ${PREFIX}")
  return()
endif()

set(configure_args
  -S "${CONSUMER_SOURCE}" -B "${BINARY_DIR}" -G "${GENERATOR}"
  "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
  "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
  "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}")
if(MAKE_PROGRAM)
  list(APPEND configure_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
if(MODE STREQUAL "find_package")
  list(APPEND configure_args "-DCMAKE_PREFIX_PATH=${PREFIX}" "-DEXPECTED_DIR=${EXPECTED_DIR}"
    "-DCOMPONENTS=${COMPONENTS}")
  if(WITHOUT_OPTIONAL)
    list(APPEND configure_args -DWITHOUT_OPTIONAL=ON
      -DCMAKE_DISABLE_FIND_PACKAGE_SQLite3=ON -DCMAKE_DISABLE_FIND_PACKAGE_PkgConfig=ON)
  endif()
elseif(MODE STREQUAL "add_subdirectory")
  list(APPEND configure_args "-DALLOCATION_SOURCE=${ALLOCATION_SOURCE}")
else()
  message(FATAL_ERROR "unknown MODE '${MODE}'")
endif()

file(REMOVE_RECURSE "${BINARY_DIR}")
run("${CMAKE_COMMAND}" ${configure_args})
run("${CMAKE_COMMAND}" --build "${BINARY_DIR}")
run("${BINARY_DIR}/allocation-consumer")
string(STRIP "${output}" output)
if(NOT output STREQUAL EXPECTED_OUTPUT)
  message(FATAL_ERROR "the consumer printed '${output}', expected '${EXPECTED_OUTPUT}'")
endif()
message(STATUS "${MODE}: the consumer printed '${output}'")
