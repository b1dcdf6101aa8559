# trellis_plugin_tests(<file>): a plugin folder's own tests, in <file> (a CMake script beside the
# plugin's sources; it uses CMAKE_CURRENT_LIST_DIR for its own paths).
#
# Plugin folders are added before tests/, which sets up enable_testing(), trellis_add_test() and
# the shared harnesses (trellis-run, test_layout_equivalence, family_probe); so the file is
# included at the end of the top-level directory (a deferred call cannot add a subdirectory).
function(trellis_plugin_tests file)
  if(NOT TRELLIS_BUILD_TESTS)
    return()
  endif()
  get_filename_component(file ${file} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
  cmake_language(EVAL CODE "
    cmake_language(DEFER DIRECTORY [[${PROJECT_SOURCE_DIR}]] CALL include [[${file}]])")
endfunction()
