# The dispatcher plugins' tests (cmake/TrellisPluginTests.cmake).
#
# dispatcher_probe on a real expert group over each CPU backend, one ctest entry per backend,
# dispatcher and group size: dispatcher_<backend>_<name>_ep<ranks>. Placement, the round trip
# and the adjoint identity, exactly.
add_executable(dispatcher_probe ${CMAKE_CURRENT_LIST_DIR}/dispatcher_probe.cpp)
target_link_libraries(dispatcher_probe PRIVATE trellis_engine)
set_target_properties(dispatcher_probe PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/bin)
add_dependencies(dispatcher_probe trellis-run trellis_dispatcher_alltoall
                 trellis_dispatcher_allgather)
trellis_cpu_backends(backends)
foreach(backend ${backends})
  foreach(dispatcher alltoall allgather)
    foreach(ranks 2 3 4)
      trellis_launch_command(launch ${backend} ${ranks})
      set(name dispatcher_${backend}_${dispatcher}_ep${ranks})
      add_test(NAME ${name} COMMAND ${launch} $<TARGET_FILE:dispatcher_probe> --dispatcher
               ${dispatcher} --backend ${backend} --plugins ${TRELLIS_PLUGIN_BUILD_DIR})
      set_tests_properties(${name} PROPERTIES LABELS multirank TIMEOUT 120 RESOURCE_LOCK cpu_heavy)
    endforeach()
  endforeach()
endforeach()
