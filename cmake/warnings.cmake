# warnings.cmake — compiler warnings for the project's own targets (tests, examples,
# benchmarks). Never applied to the INTERFACE target, so consumers keep their own flags.
# SPDX-License-Identifier: MIT
include_guard(GLOBAL)

# allocation_set_warnings(<target>)
#   Adds -Wall -Wextra -Wpedantic -Wconversion -Wshadow to <target>, and -Werror when
#   ALLOCATION_WARNINGS_AS_ERRORS is ON. Dependencies come in as IMPORTED targets or from
#   /usr/include, so their headers are system headers and stay quiet.
function(allocation_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wconversion -Wshadow)
  if(ALLOCATION_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
