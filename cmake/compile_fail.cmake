# compile_fail.cmake — ctest driver: SOURCE must fail to compile with a known message.
# SPDX-License-Identifier: MIT
# cmake -DCOMPILER=<c++> -DINCLUDES=<dir>|<dir>... -DSOURCE=<file.cpp> -P compile_fail.cmake
# SOURCE holds one or more `// expect-error: <text>` lines; the test passes when compilation
# fails and the diagnostics contain at least one <text> verbatim.
cmake_minimum_required(VERSION 3.21)

file(STRINGS "${SOURCE}" expect_lines REGEX "^[ \t]*// expect-error:")
if(NOT expect_lines)
  message(FATAL_ERROR "${SOURCE}: no `// expect-error: <text>` line says which error is expected")
endif()

set(args -std=c++20 -fsyntax-only -fdiagnostics-color=never)
string(REPLACE "|" ";" include_dirs "${INCLUDES}")
foreach(dir IN LISTS include_dirs)
  if(dir)
    list(APPEND args "-I${dir}")
  endif()
endforeach()

execute_process(COMMAND "${COMPILER}" ${args} "${SOURCE}"
  RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(result EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled, but it must not")
endif()

set(wanted "")
foreach(line IN LISTS expect_lines)
  string(REGEX REPLACE "^[ \t]*// expect-error:[ \t]*" "" text "${line}")
  string(STRIP "${text}" text)
  list(APPEND wanted "${text}")
  string(FIND "${output}" "${text}" position)
  if(NOT position EQUAL -1)
    message(STATUS "fails to compile as expected: ${text}")
    return()
  endif()
endforeach()
list(JOIN wanted "\n  " wanted)
message(FATAL_ERROR "${SOURCE} failed to compile, but without any expected text:\n  ${wanted}\n"
  "compiler output:\n${output}")
