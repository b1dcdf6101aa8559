# trellis_add_subfolders(): adds every folder below the current source directory that has a
# CMakeLists.txt. The parts of one kind (backends/, layers/, schedules/, context/, apps/, tests/)
# are one self-contained folder each, found rather than listed, so a new plugin, app or test
# folder is a new folder and nothing else.
function(trellis_add_subfolders)
  file(GLOB dirs LIST_DIRECTORIES true CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*)
  foreach(dir ${dirs})
    if(IS_DIRECTORY ${dir} AND EXISTS ${dir}/CMakeLists.txt)
      add_subdirectory(${dir})
    endif()
  endforeach()
endfunction()
