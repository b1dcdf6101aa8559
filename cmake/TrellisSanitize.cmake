# TRELLIS_SANITIZE: build every target (core, plugins, apps, tests) with the compiler's sanitizers.
#
#   -DTRELLIS_SANITIZE=address,undefined     a comma list of address, undefined, leak
#   -DTRELLIS_SANITIZE_UNDEFINED_SKIP=null,vptr   UBSan checks to leave out (default: none)
#
# trellis_enable_sanitizers() checks the list and adds the flags to every target defined after
# it; call it after the optional parts are found and before the first add_subdirectory.
# trellis_sanitize_link_interface(trellis_sdk) passes the link flag on to the SDK's users.
# trellis_sanitize_tests() gives every ctest test the sanitizers' run-time options; call it after
# the tests are added.
#
# How the runtime is linked: every executable links it (gcc puts libasan first among its
# libraries, as ASan requires); shared libraries and the dlopen'ed plugins are instrumented and
# find the runtime already in the process. trellis_sdk carries the link flag in its interface,
# so an out-of-tree plugin's test program that links an installed sanitizer build of the SDK
# links the runtime too. Plugins are loaded with RTLD_LOCAL, never RTLD_DEEPBIND, which ASan
# cannot serve (a library bound to itself first would call libc's malloc, not the runtime's).

set(TRELLIS_SANITIZE "" CACHE STRING
    "Sanitizers to build every target with: a comma list of address, undefined, leak (empty: none)")
# Some of UBSan's checks cost far more to compile than the others: with null, alignment, vptr
# and pointer-overflow left out, trainer.cpp compiles in 7.5 s at -O1 instead of 12-13 s (ASan
# alone: 7 s). .ci/sanitize leaves them out and says why.
set(TRELLIS_SANITIZE_UNDEFINED_SKIP "" CACHE STRING
    "UBSan checks to leave out of TRELLIS_SANITIZE's undefined: a comma list of its checks (empty: none)")
# gcc's checks under -fsanitize=undefined, the names TRELLIS_SANITIZE_UNDEFINED_SKIP takes.
set(_trellis_undefined_checks shift shift-exponent shift-base integer-divide-by-zero unreachable
    vla-bound null return signed-integer-overflow bounds alignment object-size
    float-divide-by-zero float-cast-overflow nonnull-attribute returns-nonnull-attribute bool enum
    vptr pointer-overflow builtin)

# The sanitizers Trellis is built and tested with, and why the others are refused.
set(_trellis_sanitizers_supported address undefined leak)
set(_trellis_sanitizer_refused_thread
    "ThreadSanitizer needs every library that runs threads instrumented; the CPU kernels run on \
OpenMP (Debian's libgomp is not built with it), so every parallel region would be reported as a race")
set(_trellis_sanitizer_refused_memory
    "MemorySanitizer is clang-only and needs every library (OpenBLAS, Open MPI, UCX, libstdc++) \
built with it")

# Exit status of a process a sanitizer stops: LSan's own default, a code Trellis never uses, so a
# test that expects a particular failure (2 for bad input, 137 for a killed rank) cannot mistake a
# finding for it.
set(TRELLIS_SANITIZER_EXIT_CODE 23)

macro(trellis_enable_sanitizers)
  set(TRELLIS_SANITIZERS)
  if(NOT TRELLIS_SANITIZE STREQUAL "")
    _trellis_parse_sanitizers("${TRELLIS_SANITIZE}" TRELLIS_SANITIZERS)
    set(_trellis_sanitize_checks ${TRELLIS_SANITIZERS})
    set(_trellis_sanitize_less "")
    # libstdc++'s own checks: operator[], front(), back() and the like check their bounds and
    # preconditions (an element past size() but within capacity is no ASan finding).
    set(_trellis_sanitize_compile -fno-omit-frame-pointer -D_GLIBCXX_ASSERTIONS)
    if("address" IN_LIST TRELLIS_SANITIZERS)
      # std::vector marks its capacity beyond size() as unaddressable for ASan.
      list(APPEND _trellis_sanitize_compile -D_GLIBCXX_SANITIZE_VECTOR)
    endif()
    if("undefined" IN_LIST TRELLIS_SANITIZERS)
      # gcc's `undefined` leaves out float-cast-overflow: a float converted to an integer type
      # that cannot hold it, undefined behaviour that x86 turns into INT_MIN without a word.
      list(APPEND _trellis_sanitize_checks float-cast-overflow)
      # Every UBSan finding stops the process (and so fails its test) instead of printing and going on.
      list(APPEND _trellis_sanitize_compile -fno-sanitize-recover=all)
    endif()
    string(JOIN "," _trellis_sanitize_flag ${_trellis_sanitize_checks})
    list(PREPEND _trellis_sanitize_compile -fsanitize=${_trellis_sanitize_flag})
    if(NOT TRELLIS_SANITIZE_UNDEFINED_SKIP STREQUAL "")
      _trellis_parse_undefined_skip("${TRELLIS_SANITIZE_UNDEFINED_SKIP}" _trellis_sanitize_skip)
      # After -fsanitize=: the later flag wins for each check.
      list(APPEND _trellis_sanitize_compile -fno-sanitize=${_trellis_sanitize_skip})
      set(_trellis_sanitize_less " (undefined less ${_trellis_sanitize_skip})")
    endif()
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      # gcc's flow analysis of instrumented code warns of uninitialised members inside libstdc++'s
      # std::function, std::variant and <regex> (44 warnings, none in Trellis code); builds
      # without sanitizers keep the warning.
      list(APPEND _trellis_sanitize_compile -Wno-maybe-uninitialized)
    endif()
    _trellis_check_sanitizers_link("${_trellis_sanitize_compile}" "-fsanitize=${_trellis_sanitize_flag}")
    add_compile_options("$<$<COMPILE_LANGUAGE:CXX>:${_trellis_sanitize_compile}>")
    add_link_options(-fsanitize=${_trellis_sanitize_flag})
    if("address" IN_LIST TRELLIS_SANITIZERS OR "leak" IN_LIST TRELLIS_SANITIZERS)
      # Every executable keeps the libraries Trellis does not build loaded until it exits, so
      # leak reports name them (see keep_libraries_loaded.cpp).
      add_library(trellis_keep_libraries_loaded SHARED
                  ${PROJECT_SOURCE_DIR}/cmake/sanitizers/keep_libraries_loaded.cpp)
      target_link_libraries(trellis_keep_libraries_loaded PRIVATE ${CMAKE_DL_LIBS})
      # Deferred twice: plugin folders' tests (trellis_plugin_tests) make executables in calls
      # deferred to the end of this directory too, after this one was queued; a call queued by a
      # deferred call runs after all of them.
      cmake_language(DEFER CALL cmake_language DEFER CALL _trellis_link_executables_to
                     trellis_keep_libraries_loaded)
      install(TARGETS trellis_keep_libraries_loaded LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
    endif()
    message(STATUS "Trellis sanitizers: ${_trellis_sanitize_flag}${_trellis_sanitize_less} (every target; tests run with "
                   "the suppressions in cmake/sanitizers/)")
  endif()
endmacro()

# Links `library` into every executable of the build; run at the end of the top-level
# CMakeLists.txt, when all of them exist. (Only LINK_LIBRARIES: nothing is exported.)
function(_trellis_link_executables_to library)
  _trellis_collect_below(${PROJECT_SOURCE_DIR} BUILDSYSTEM_TARGETS targets)
  foreach(target IN LISTS targets)
    get_target_property(type ${target} TYPE)
    if(type STREQUAL "EXECUTABLE")
      set_property(TARGET ${target} APPEND PROPERTY LINK_LIBRARIES ${library})
    endif()
  endforeach()
endfunction()

# trellis_sdk's users link the runtime too (see the top of this file); exported with the target.
function(trellis_sanitize_link_interface target)
  if(TRELLIS_SANITIZERS)
    string(JOIN "," flag ${TRELLIS_SANITIZERS})
    target_link_options(${target} INTERFACE -fsanitize=${flag})
  endif()
endfunction()

# Checks TRELLIS_SANITIZE_UNDEFINED_SKIP ("null, vptr") and sets `out` to its names, comma-joined.
function(_trellis_parse_undefined_skip text out)
  if(NOT "undefined" IN_LIST TRELLIS_SANITIZERS)
    message(FATAL_ERROR "TRELLIS_SANITIZE_UNDEFINED_SKIP=${text} leaves checks out of "
                        "UndefinedBehaviorSanitizer, which TRELLIS_SANITIZE=${TRELLIS_SANITIZE} does "
                        "not name. Add undefined to TRELLIS_SANITIZE or leave the skip list empty.")
  endif()
  string(REPLACE "," ";" names "${text}")
  set(result)
  foreach(name IN LISTS names)
    string(STRIP "${name}" name)
    if(name STREQUAL "")
      continue()
    endif()
    if(NOT name IN_LIST _trellis_undefined_checks)
      string(JOIN ", " valid ${_trellis_undefined_checks})
      message(FATAL_ERROR "TRELLIS_SANITIZE_UNDEFINED_SKIP=${text}: '${name}' is not one of "
                          "UBSan's checks. Valid: a comma list of ${valid}.")
    endif()
    list(APPEND result ${name})
  endforeach()
  string(JOIN "," joined ${result})
  set(${out} "${joined}" PARENT_SCOPE)
endfunction()

# Splits "address, undefined" into a list, refusing what Trellis does not build with.
function(_trellis_parse_sanitizers text out)
  string(REPLACE "," ";" names "${text}")
  set(result)
  foreach(name IN LISTS names)
    string(STRIP "${name}" name)
    string(TOLOWER "${name}" name)
    if(name STREQUAL "")
      continue()
    endif()
    if(DEFINED _trellis_sanitizer_refused_${name})
      message(FATAL_ERROR "TRELLIS_SANITIZE=${text}: '${name}' is not supported: "
                          "${_trellis_sanitizer_refused_${name}}. Valid: address, undefined, leak.")
    endif()
    if(NOT name IN_LIST _trellis_sanitizers_supported)
      message(FATAL_ERROR "TRELLIS_SANITIZE=${text}: '${name}' is not a sanitizer Trellis builds "
                          "with. Valid: a comma list of address, undefined, leak (e.g. address,undefined).")
    endif()
    if(NOT name IN_LIST result)
      list(APPEND result ${name})
    endif()
  endforeach()
  if(NOT result)
    message(FATAL_ERROR "TRELLIS_SANITIZE=${text} names no sanitizer. Valid: a comma list of "
                        "address, undefined, leak, or empty for none.")
  endif()
  # ASan contains LeakSanitizer; naming both would link two runtimes.
  if("address" IN_LIST result)
    list(REMOVE_ITEM result leak)
  endif()
  if(TRELLIS_HAVE_CUDA)
    message(FATAL_ERROR "TRELLIS_SANITIZE=${text} is not supported in a build with CUDA: the CUDA "
                        "runtime and nvcc's host code are untested under the sanitizers. Configure "
                        "the sanitizer build with -DTRELLIS_CUDA=OFF.")
  endif()
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "^(GNU|Clang)$")
    message(FATAL_ERROR "TRELLIS_SANITIZE needs gcc or clang; the compiler is ${CMAKE_CXX_COMPILER_ID}.")
  endif()
  set(${out} ${result} PARENT_SCOPE)
endfunction()

# Builds and links a small program with the flags, so a missing runtime is a configure error.
function(_trellis_check_sanitizers_link compile_flags link_flag)
  include(CheckCXXSourceCompiles)
  string(REPLACE ";" " " CMAKE_REQUIRED_FLAGS "${compile_flags}")
  set(CMAKE_REQUIRED_LINK_OPTIONS ${link_flag})
  set(CMAKE_REQUIRED_QUIET ON)
  check_cxx_source_compiles("int main() { return 0; }" TRELLIS_SANITIZERS_LINK)
  if(NOT TRELLIS_SANITIZERS_LINK)
    unset(TRELLIS_SANITIZERS_LINK CACHE)
    message(FATAL_ERROR "TRELLIS_SANITIZE=${TRELLIS_SANITIZE}: ${CMAKE_CXX_COMPILER} cannot build "
                        "and link a program with ${link_flag}: its runtime libraries are missing "
                        "(for Debian's g++ they come with libgcc-12-dev: libasan8, libubsan1, liblsan0).")
  endif()
endfunction()

# Every test of the build runs with the sanitizers' options: ctest includes a generated script
# (from sanitizer_test_environment.cmake.in) before it starts any test, which sets ASAN_OPTIONS,
# LSAN_OPTIONS and UBSAN_OPTIONS in ctest's environment, so each test, each program it starts and
# each rank under trellis-run or mpirun inherits them. A finding ends its process with exit
# status TRELLIS_SANITIZER_EXIT_CODE. ASan and LSan also write their reports under
# <build>/sanitizer-reports/, and the test `sanitizer_reports` (labels unit and multirank, run
# after every other test selected) fails, printing them, when any process wrote one: that second
# net catches a finding in a process whose exit status nobody reads (a rank the launcher stops, a
# program a test expects to fail). gcc's UBSan runtime ignores log_path and prints to stderr, so
# its findings fail through the exit status only.
function(trellis_sanitize_tests)
  if(NOT TRELLIS_SANITIZERS)
    return()
  endif()
  set(TRELLIS_SANITIZER_SUPPRESSIONS ${PROJECT_SOURCE_DIR}/cmake/sanitizers)
  set(TRELLIS_SANITIZER_REPORT_DIR ${PROJECT_BINARY_DIR}/sanitizer-reports)
  set(environment_script ${PROJECT_BINARY_DIR}/sanitizer_test_environment.cmake)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/sanitizer_test_environment.cmake.in
                 ${environment_script} @ONLY)
  set_property(DIRECTORY ${PROJECT_SOURCE_DIR} APPEND PROPERTY TEST_INCLUDE_FILES ${environment_script})

  _trellis_collect_below(${PROJECT_SOURCE_DIR} TESTS tests)
  _trellis_sanitize_self_tests()
  add_test(NAME sanitizer_reports
           COMMAND ${CMAKE_COMMAND} -DREPORT_DIR=${TRELLIS_SANITIZER_REPORT_DIR}
                   -P ${PROJECT_SOURCE_DIR}/cmake/sanitizer_reports.cmake)
  set_tests_properties(sanitizer_reports PROPERTIES LABELS "unit;multirank" DEPENDS "${tests}")
endfunction()

# The build's tests of itself: a rank with an ASan finding fails its launch, with the exit status
# and the report, under trellis-run and under trellis-run --mpirun. (Their reports go to a
# directory of their own, not to the one sanitizer_reports checks.)
function(_trellis_sanitize_self_tests)
  if(NOT "address" IN_LIST TRELLIS_SANITIZERS)
    return()
  endif()
  add_executable(sanitizer_rank_with_finding ${PROJECT_SOURCE_DIR}/cmake/sanitizers/rank_with_finding.cpp)
  set_target_properties(sanitizer_rank_with_finding PROPERTIES RUNTIME_OUTPUT_DIRECTORY
                        ${PROJECT_BINARY_DIR}/tests/bin)
  set(launchers "trellis-run")
  if(TARGET trellis_comm_mpi)
    list(APPEND launchers "trellis-run --mpirun")
  endif()
  foreach(launcher IN LISTS launchers)
    string(REPLACE " " ";" launch "${launcher}")
    list(POP_FRONT launch program)
    string(REPLACE "trellis-run" "" name "${launcher}")
    string(REPLACE " --" "_" name "sanitizer_finding_fails_trellis_run${name}")
    set(report_dir ${PROJECT_BINARY_DIR}/sanitizer-self-test/${name})
    add_test(NAME ${name}
             COMMAND ${CMAKE_COMMAND} -DREPORT_DIR=${report_dir}
                     -DEXIT_CODE=${TRELLIS_SANITIZER_EXIT_CODE}
                     "-DCOMMAND=$<TARGET_FILE:trellis-run>;${launch};-n;2;--;$<TARGET_FILE:sanitizer_rank_with_finding>"
                     -P ${PROJECT_SOURCE_DIR}/cmake/sanitizer_finding_check.cmake)
    set_tests_properties(${name} PROPERTIES LABELS multirank TIMEOUT 120 PROCESSORS 2
      ENVIRONMENT_MODIFICATION "ASAN_OPTIONS=string_append::log_path=${report_dir}/report")
  endforeach()
endfunction()

# A directory property (TESTS, BUILDSYSTEM_TARGETS) of `dir` and every directory below it, joined.
function(_trellis_collect_below dir property out)
  get_property(found DIRECTORY ${dir} PROPERTY ${property})
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(subdir IN LISTS subdirs)
    _trellis_collect_below(${subdir} ${property} below)
    list(APPEND found ${below})
  endforeach()
  set(${out} ${found} PARENT_SCOPE)
endfunction()
