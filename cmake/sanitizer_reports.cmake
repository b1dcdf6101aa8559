# cmake -DREPORT_DIR=<dir> -P sanitizer_reports.cmake
#
# The sanitizer build's last test (see TrellisSanitize.cmake): fails, printing every report, when
# any process of any test wrote one into REPORT_DIR.
if(NOT DEFINED REPORT_DIR)
  message(FATAL_ERROR "usage: cmake -DREPORT_DIR=<dir> -P sanitizer_reports.cmake")
endif()
file(GLOB reports ${REPORT_DIR}/report*)
if(reports)
  list(LENGTH reports count)
  foreach(report IN LISTS reports)
    file(READ ${report} text)
    message("==== ${report}\n${text}")
  endforeach()
  message(FATAL_ERROR "${count} sanitizer report(s) in ${REPORT_DIR} (above); each file is named "
                      "report.<program>.<pid>.")
endif()
message(STATUS "no sanitizer reports in ${REPORT_DIR}")
