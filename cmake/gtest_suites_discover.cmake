# Run by ctest (through the include file streamml_discover_test_suites()
# writes): lists the suites of ${_bin} and writes ${_list_file}, one add_test
# per suite. Inputs: _bin, _list_file, _prefix, _labels, _timeout, _exclude,
# _workdir.
execute_process(COMMAND "${_bin}" --gtest_list_tests
  WORKING_DIRECTORY "${_workdir}"
  OUTPUT_VARIABLE _out ERROR_VARIABLE _err RESULT_VARIABLE _rc TIMEOUT 120)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "listing the tests of ${_bin} failed (${_rc}):\n${_out}\n${_err}")
endif()
string(REPLACE ";" "\\;" _out "${_out}")
string(REPLACE "\n" ";" _lines "${_out}")
set(_script "")
set(_suite "")
set(_enabled 0)
macro(_streamml_flush_suite)
  if(NOT _suite STREQUAL "" AND _enabled GREATER 0)
    list(FIND _exclude "${_suite}" _excluded)
    if(_excluded EQUAL -1)
      string(APPEND _script
        "add_test([==[${_prefix}${_suite}]==] [==[${_bin}]==] [==[--gtest_filter=${_suite}.*]==])\n"
        "set_tests_properties([==[${_prefix}${_suite}]==] PROPERTIES WORKING_DIRECTORY [==[${_workdir}]==]"
        " LABELS [==[${_labels}]==] TIMEOUT ${_timeout})\n")
    endif()
  endif()
endmacro()
foreach(_line IN LISTS _lines)
  if(_line MATCHES "^([^ #][^ ]*)\\.( .*)?$")
    _streamml_flush_suite()
    set(_suite "${CMAKE_MATCH_1}")
    set(_enabled 0)
  elseif(_line MATCHES "^  ([^ ]+)" AND NOT CMAKE_MATCH_1 MATCHES "^DISABLED_")
    math(EXPR _enabled "${_enabled} + 1")
  endif()
endforeach()
_streamml_flush_suite()
if(_script STREQUAL "")
  message(FATAL_ERROR "${_bin} lists no test suite")
endif()
file(WRITE "${_list_file}" "${_script}")
