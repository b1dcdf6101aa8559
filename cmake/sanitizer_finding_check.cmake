# cmake -DCOMMAND=<list> -DREPORT_DIR=<dir> -DEXIT_CODE=<n> -P sanitizer_finding_check.cmake
#
# The sanitizer build's test of itself (see TrellisSanitize.cmake): runs COMMAND, a launch whose
# rank 1 has an ASan finding, and fails unless the launch exits with EXIT_CODE and exactly one
# report, a heap-buffer-overflow, was written to REPORT_DIR.
file(REMOVE_RECURSE ${REPORT_DIR})
file(MAKE_DIRECTORY ${REPORT_DIR})
execute_process(COMMAND ${COMMAND} RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
file(GLOB reports ${REPORT_DIR}/report*)
list(LENGTH reports count)
if(NOT result STREQUAL "${EXIT_CODE}" OR NOT count EQUAL 1)
  message(FATAL_ERROR "expected exit status ${EXIT_CODE} and one report in ${REPORT_DIR}; got "
                      "${result} and ${count}. ASAN_OPTIONS=$ENV{ASAN_OPTIONS}\nOutput:\n${output}")
endif()
file(READ ${reports} report)
if(NOT report MATCHES "heap-buffer-overflow")
  message(FATAL_ERROR "the report is not the heap-buffer-overflow of rank 1:\n${report}")
endif()
message(STATUS "exit status ${result}, report ${reports}")
