# The mpi backend's own tests: real processes started by mpirun, with 1 to 4 ranks, the plugin
# loaded through the registry as trellis-train loads it. Included at the end of the top-level
# directory (trellis_plugin_tests), so sources are named by CMAKE_CURRENT_LIST_DIR. Fast (seconds). What every backend must
# do (collectives, send/recv, argument checks) is the conformance suite's (tests/comm/conformance,
# with MPI_Iallreduce forced at 2 to 4 ranks); what is left here is this backend's own.
set(mpi_tests_dir ${CMAKE_CURRENT_LIST_DIR})
# mpirun refuses root without these; ctest runs tests with this environment.
set(mpi_test_environment OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1)
set(mpi_plugin_file ${TRELLIS_PLUGIN_BUILD_DIR}/libtrellis_comm_mpi.so)

function(add_mpi_test_program name)
  list(TRANSFORM ARGN PREPEND ${mpi_tests_dir}/ REGEX "^[^/]")
  add_executable(${name} ${ARGN})
  target_link_libraries(${name} PRIVATE doctest::doctest trellis_engine)
  target_compile_definitions(${name} PRIVATE TRELLIS_TEST_MPI_PLUGIN="${mpi_plugin_file}")
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/bin)
  add_dependencies(${name} trellis_comm_mpi)
endfunction()

# mpi_add_test(<test name> RANKS <n> PROGRAM <target> [ARGS <args...>])
function(mpi_add_test test_name)
  cmake_parse_arguments(ARG "" "RANKS;PROGRAM" "ARGS" ${ARGN})
  add_test(NAME ${test_name}
    COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${ARG_RANKS} --oversubscribe
            --tag-output ${MPIEXEC_PREFLAGS} $<TARGET_FILE:${ARG_PROGRAM}> ${MPIEXEC_POSTFLAGS}
            ${ARG_ARGS})
  set_tests_properties(${test_name} PROPERTIES LABELS multirank TIMEOUT 180
    PROCESSORS ${ARG_RANKS} ENVIRONMENT "${mpi_test_environment}")
endfunction()

# Its own algorithms in flight, split's names, bf16 refusal and timeouts, at every group size up to
# 4 (the 300000-element all_reduces run the ring); at 2 to 4 ranks also with every all_reduce
# handed to MPI_Iallreduce (neither recursive doubling nor the ring).
add_mpi_test_program(test_mpi_backend
  mpi_test_main.cpp mpi_test_support.cpp
  test_in_flight.cpp test_split.cpp
  test_operand_errors.cpp test_timeouts.cpp)
foreach(ranks 1 2 3 4)
  mpi_add_test(mpi_backend_np${ranks} RANKS ${ranks} PROGRAM test_mpi_backend)
endforeach()
foreach(ranks 2 3 4)
  mpi_add_test(mpi_backend_np${ranks}_mpi_iallreduce RANKS ${ranks} PROGRAM test_mpi_backend
    ARGS --small-all-reduce-bytes=0 --ring-all-reduce-bytes=0)
endforeach()

# Lifetime: two worlds share MPI, a split outliving its world, MPI finalised once.
add_mpi_test_program(test_mpi_lifetime test_lifetime.cpp ${PROJECT_SOURCE_DIR}/tests/doctest_main.cpp)
mpi_add_test(mpi_lifetime_np2 RANKS 2 PROGRAM test_mpi_lifetime)

# A process not started by mpirun (an MPI singleton) told that the world has 2 ranks.
add_mpi_test_program(test_mpi_launch_mismatch test_launch_mismatch.cpp
  ${PROJECT_SOURCE_DIR}/tests/doctest_main.cpp)
add_test(NAME mpi_launch_mismatch COMMAND test_mpi_launch_mismatch)
set_tests_properties(mpi_launch_mismatch PROPERTIES LABELS multirank TIMEOUT 60
  ENVIRONMENT "${mpi_test_environment}")

# The conformance suite with every reduce_scatter and reduce (and all_reduce) by the ring, in
# 1 KiB segments: several segments per chunk from 1 KiB of f32 up, chunks of unequal length and
# empty ones (fewer elements than ranks), in place and not, every root, every reduction with
# NaN, i32, at 2 to 4 ranks (3 is not a power of two). The suite's own variants
# (tests/comm/conformance) force the all_reduce ring only.
if(TARGET comm_conformance AND TARGET trellis-run)
  foreach(ranks 2 3 4)
    set(test_name comm_conformance_mpi_ring_reduce_np${ranks})
    add_test(NAME ${test_name}
      COMMAND $<TARGET_FILE:trellis-run> --mpirun -n ${ranks} --tag-output --
              $<TARGET_FILE:comm_conformance> mpi --no-large
              --option small_all_reduce_bytes=0 --option ring_all_reduce_bytes=1
              --option ring_reduce_scatter_bytes=1 --option ring_reduce_bytes=1
              --option ring_segment_bytes=1024
              --scratch ${CMAKE_BINARY_DIR}/backends/mpi/tests/work/${test_name})
    set_tests_properties(${test_name} PROPERTIES LABELS multirank TIMEOUT 300
      PROCESSORS ${ranks})
  endforeach()
endif()
