# The ucx backend's own tests (ctest label multirank): ucx_rank_checks is a doctest program that
# every rank runs, started by trellis-run at world sizes 1 to 4.
# Included at the end of the top-level CMakeLists.txt (see ../CMakeLists.txt), so paths are
# relative to this file's folder.
set(ucx_tests_dir ${CMAKE_CURRENT_LIST_DIR})

add_executable(ucx_rank_checks
  ${ucx_tests_dir}/rank_world.cpp
  ${ucx_tests_dir}/collective_checks.cpp
  ${ucx_tests_dir}/point_to_point_checks.cpp
  ${ucx_tests_dir}/concurrency_checks.cpp
  ${ucx_tests_dir}/split_checks.cpp
  ${ucx_tests_dir}/unsupported_checks.cpp
  ${ucx_tests_dir}/create_world_checks.cpp
  ${ucx_tests_dir}/failure_checks.cpp)
target_link_libraries(ucx_rank_checks PRIVATE trellis_test_main trellis_engine)
target_compile_definitions(ucx_rank_checks PRIVATE
  TRELLIS_UCX_PLUGIN_FILE="$<TARGET_FILE:trellis_comm_ucx>")
set_target_properties(ucx_rank_checks PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/bin)
add_dependencies(ucx_rank_checks trellis_comm_ucx trellis-run)

# ucx_test(<name> <ranks> <doctest arguments...>)
function(ucx_test name ranks)
  add_test(NAME ${name}
    COMMAND trellis-run -n ${ranks} --tag-output -- $<TARGET_FILE:ucx_rank_checks> ${ARGN})
  set_tests_properties(${name} PROPERTIES LABELS multirank TIMEOUT 180)
endfunction()

foreach(ranks 1 2 3 4)
  ucx_test(ucx_backend_np${ranks} ${ranks} --test-suite-exclude=failures)
endforeach()
foreach(ranks 2 3 4)
  ucx_test(ucx_timeouts_np${ranks} ${ranks} "--test-case=*times out*,*timeout on a split*")
  ucx_test(ucx_peer_exit_np${ranks} ${ranks} "--test-case=*peer that exits*")
endforeach()
ucx_test(ucx_startup_timeout_np2 2 "--test-case=*start-up*")
