# Builds one include probe (tests/folder_graph/CMakeLists.txt) and checks that it compiles (EXPECT ok) or
# fails because HEADER cannot be found (EXPECT forbidden).
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ${TARGET}
                RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(EXPECT STREQUAL "ok")
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "${TARGET}: including ${HEADER} should compile, but:\n${output}")
  endif()
  message(STATUS "${TARGET}: ${HEADER} is visible, as declared")
else()
  if(result EQUAL 0)
    message(FATAL_ERROR "${TARGET}: including ${HEADER} compiled, but the folder graph forbids it")
  endif()
  string(FIND "${output}" "${HEADER}: No such file or directory" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${TARGET}: failed, but not for want of ${HEADER}:\n${output}")
  endif()
  message(STATUS "${TARGET}: ${HEADER} is out of reach, as the folder graph requires")
endif()
