# run_example.cmake — ctest driver for one example (see allocation_add_example).
# SPDX-License-Identifier: MIT
# cmake -DEXECUTABLE=<program> -DEXPECTED=<file.output> -DREQUIRED=ON|OFF -P run_example.cmake
# Runs the program with no input; fails on a non-zero exit, or when its stdout differs from
# EXPECTED (when EXPECTED exists; it must when REQUIRED).
cmake_minimum_required(VERSION 3.21)

execute_process(COMMAND "${EXECUTABLE}" INPUT_FILE /dev/null
  RESULT_VARIABLE result OUTPUT_VARIABLE actual ERROR_VARIABLE errors)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${EXECUTABLE} exited with ${result}\nstdout:\n${actual}\nstderr:\n${errors}")
endif()
if(NOT EXISTS "${EXPECTED}")
  if(REQUIRED)
    message(FATAL_ERROR "expected output ${EXPECTED} does not exist")
  endif()
  message(STATUS "ran ${EXECUTABLE} (no recorded output to compare)")
  return()
endif()
file(READ "${EXPECTED}" expected)
if(actual STREQUAL expected)
  message(STATUS "the output of ${EXECUTABLE} matches ${EXPECTED}")
  return()
endif()
get_filename_component(name "${EXPECTED}" NAME)
set(actual_file "${CMAKE_CURRENT_BINARY_DIR}/${name}.actual")  # the test's working directory
file(WRITE "${actual_file}" "${actual}")
find_program(DIFF diff)
set(difference "")
if(DIFF)
  execute_process(COMMAND "${DIFF}" -u "${EXPECTED}" "${actual_file}" OUTPUT_VARIABLE difference)
endif()
message(FATAL_ERROR "the output of ${EXECUTABLE} differs from ${EXPECTED} "
  "(actual output in ${actual_file}):\n${difference}")
