# streamml_discover_test_suites(TARGET PREFIX <p> LABELS <l> [TIMEOUT <s>] [EXCLUDE <suite>...])
#
# Like gtest_discover_tests(... DISCOVERY_MODE PRE_TEST), but one ctest test
# per test suite (`<p><Suite>`, running `--gtest_filter=<Suite>.*`) instead of
# one per test. Every test of a LibTorch-linked binary pays for loading
# LibTorch (~1-2 s on 2 cores, several under ASan), which dwarfs most unit
# tests; one process per suite pays it once (CI time in BENCHMARKS.md). The
# output still names each failing test; to run one test alone, run the
# binary with --gtest_filter=Suite.Test.
#
# The list is made when ctest starts, from `<binary> --gtest_list_tests`, and
# made again only when the binary is newer than it.
set(_streamml_gtest_suites_script "${CMAKE_CURRENT_LIST_DIR}/gtest_suites_discover.cmake")

function(streamml_discover_test_suites target)
  cmake_parse_arguments(A "" "PREFIX;LABELS;TIMEOUT" "EXCLUDE" ${ARGN})
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT 600)
  endif()
  set(list_file "${CMAKE_CURRENT_BINARY_DIR}/${target}_suites.cmake")
  set(include_file "${CMAKE_CURRENT_BINARY_DIR}/${target}_suites_include.cmake")
  file(GENERATE OUTPUT "${include_file}" CONTENT
"set(_bin [==[$<TARGET_FILE:${target}>]==])
set(_list_file [==[${list_file}]==])
if(NOT EXISTS \"\${_bin}\")
  add_test([==[${target}_NOT_BUILT]==] [==[${target}_NOT_BUILT]==])
  return()
endif()
if(NOT EXISTS \"\${_list_file}\" OR \"\${_bin}\" IS_NEWER_THAN \"\${_list_file}\")
  set(_prefix [==[${A_PREFIX}]==])
  set(_labels [==[${A_LABELS}]==])
  set(_timeout [==[${A_TIMEOUT}]==])
  set(_exclude [==[${A_EXCLUDE}]==])
  set(_workdir [==[${CMAKE_CURRENT_BINARY_DIR}]==])
  include([==[${_streamml_gtest_suites_script}]==])
endif()
include(\"\${_list_file}\")
")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${include_file}")
endfunction()
