# trellis_add_plugin(NAME <name> KIND <comm|layers|schedule|context|dispatcher> SOURCES <files...>
#                    [OUTPUT_DIRECTORY <dir>] [NO_INSTALL])
#
# Builds a Trellis plugin: a module library named libtrellis_<kind>_<name>.so that links
# Trellis::sdk and exports exactly one symbol, the `trellis_plugin` descriptor alias
# (see trellis/plugin.h). Everything else is hidden, so two plugins never clash.
#
# Works in the Trellis source tree and, after find_package(Trellis), in a plugin author's own
# project. The target is called trellis_<kind>_<name>; add link libraries to it as usual.
function(trellis_add_plugin)
  cmake_parse_arguments(ARG "NO_INSTALL" "NAME;KIND;OUTPUT_DIRECTORY" "SOURCES" ${ARGN})
  if(NOT ARG_NAME OR NOT ARG_KIND OR NOT ARG_SOURCES)
    message(FATAL_ERROR "trellis_add_plugin: NAME, KIND and SOURCES are required")
  endif()
  if(NOT ARG_KIND MATCHES "^(comm|layers|schedule|context|dispatcher)$")
    message(FATAL_ERROR "trellis_add_plugin(${ARG_NAME}): KIND '${ARG_KIND}' is not one of comm, layers, schedule, context, dispatcher")
  endif()
  if(NOT ARG_NAME MATCHES "^[a-z0-9][a-z0-9_-]*$")
    message(FATAL_ERROR "trellis_add_plugin: NAME '${ARG_NAME}' must be lower-case letters, digits, '_' or '-'")
  endif()
  set(target trellis_${ARG_KIND}_${ARG_NAME})
  string(REPLACE "-" "_" target ${target})
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE Trellis::sdk)
  target_compile_features(${target} PRIVATE cxx_std_20)
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME trellis_${ARG_KIND}_${ARG_NAME}
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIRECTORY})
  elseif(DEFINED TRELLIS_PLUGIN_BUILD_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${TRELLIS_PLUGIN_BUILD_DIR})
  endif()
  # Plugins live in <prefix>/lib/trellis/plugins and find libtrellis_sdk two levels up.
  set_target_properties(${target} PROPERTIES INSTALL_RPATH "$ORIGIN/../..")
  if(NOT ARG_NO_INSTALL)
    if(DEFINED TRELLIS_PLUGIN_INSTALL_DIR)
      install(TARGETS ${target} LIBRARY DESTINATION ${TRELLIS_PLUGIN_INSTALL_DIR})
    else()
      install(TARGETS ${target} LIBRARY DESTINATION lib/trellis/plugins)
    endif()
  endif()
endfunction()
