# The context plugins' tests (cmake/TrellisPluginTests.cmake).
#
# context_probe on a real context group over each CPU backend, one ctest entry per backend, mode
# and group size: context_<backend>_<mode>_c<ranks>. ring and allgather against one rank's
# attention within float32 bounds; a2a bit for bit (--exact: per head it is the same kernel).
add_executable(context_probe ${CMAKE_CURRENT_LIST_DIR}/context_probe.cpp)
target_link_libraries(context_probe PRIVATE trellis_engine trellis_test_numerics)
set_target_properties(context_probe PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/bin)
add_dependencies(context_probe trellis-run trellis_context_ring trellis_context_allgather
                 trellis_context_a2a)
trellis_cpu_backends(backends)
foreach(backend ${backends})
  foreach(mode ring allgather a2a)
    set(mode_flags)
    if(mode STREQUAL "a2a")
      set(mode_flags --exact)
    endif()
    foreach(ranks 2 4)
      trellis_launch_command(launch ${backend} ${ranks})
      set(name context_${backend}_${mode}_c${ranks})
      add_test(NAME ${name} COMMAND ${launch} $<TARGET_FILE:context_probe> --mode ${mode}
               --backend ${backend} ${mode_flags} --plugins ${TRELLIS_PLUGIN_BUILD_DIR})
      set_tests_properties(${name} PROPERTIES LABELS multirank TIMEOUT 120 RESOURCE_LOCK cpu_heavy)
    endforeach()
  endforeach()
endforeach()

# In one process, through the registry: a2a's check, the plugins' refusals, a group of one.
trellis_add_test(test_context_plugins LABELS unit
                 SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_context_plugins.cpp
                 LIBS trellis_test_numerics)
target_compile_definitions(test_context_plugins PRIVATE
  CONTEXT_TEST_PLUGIN_DIR="${TRELLIS_PLUGIN_BUILD_DIR}")
add_dependencies(test_context_plugins trellis_context_ring trellis_context_allgather
                 trellis_context_a2a)

# trellis-plugins lists them under their kind.
add_test(NAME trellis_plugins_lists_context
  COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/trellis_plugins_lists_context.sh
          $<TARGET_FILE:trellis-plugins> ${TRELLIS_PLUGIN_BUILD_DIR})
set_tests_properties(trellis_plugins_lists_context PROPERTIES LABELS unit TIMEOUT 60)
