# The replicated family's tests, included from the plugin's CMakeLists.txt.
#
# Training runs of test/tiny.toml with the installed trellis-train, each a test, and then their
# losses and gradient norms compared step by step (compare_metrics):
#   replicated_tp1 vs onedim_tp1       this family against Trellis's 1d family, both at tensor 1
#   replicated_tp2 vs replicated_tp1   two ranks over UCX, each computing the whole model
#   replicated_pp2 vs onedim_pp2       two pipeline stages, zero-bubble schedule, both families
# At tensor 1 the 1d family makes exactly the kernel calls this family makes, in the same order,
# and at tensor 2 each rank of this family repeats the one-rank computation, so with one BLAS
# thread per rank the losses come out bit-identical. So do the gradient norms, except at tensor 2:
# there core sums each rank's half of every replicated parameter's squares over the group, another
# association of the same squares. sum_squares is accurate to about 1e-7 relative (kernels.h), so
# two associations differ by at most about 2e-7; the comparison's relative tolerance of 1e-6
# covers that, and a BLAS that blocks its sums differently in another process. It prints whether
# the figures are bit-identical.
# test_replicated_check loads the plugin through Trellis's registry and asks its check hook.

# The installed trellis-train: TrellisConfig names it in newer installs; older ones have it in
# the prefix's bin/, three levels above lib/cmake/Trellis.
if(NOT TRELLIS_TRAIN_EXECUTABLE)
  find_program(TRELLIS_TRAIN_EXECUTABLE trellis-train
               HINTS "${Trellis_DIR}/../../../bin" NO_DEFAULT_PATH)
endif()
if(NOT TRELLIS_TRAIN_EXECUTABLE)
  message(FATAL_ERROR "replicated-layers tests: no trellis-train in the Trellis install "
                      "(${Trellis_DIR}/../../../bin); install Trellis with its apps, or "
                      "configure with -DREPLICATED_BUILD_TESTS=OFF")
endif()
# The training text: the first 4 KiB of Trellis's quickstart essays (configs/data/), kept next
# to the test so that it depends only on the plugin's folder and the install (4 steps of 4
# sequences of 32 tokens read 513 of them).
get_filename_component(replicated_tiny_text
  "${CMAKE_CURRENT_LIST_DIR}/quickstart-sample.txt" ABSOLUTE)
set(TRELLIS_TINY_TEXT "${replicated_tiny_text}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/tiny.toml ${CMAKE_CURRENT_BINARY_DIR}/tiny.toml @ONLY)

add_executable(compare_metrics ${CMAKE_CURRENT_LIST_DIR}/compare_metrics.cpp)
target_compile_features(compare_metrics PRIVATE cxx_std_20)
target_compile_options(compare_metrics PRIVATE -Wall -Wextra)

set(replicated_runs ${CMAKE_CURRENT_BINARY_DIR}/runs)
# replicated_train(<test name> [RUN <run folder>] [AFTER <test>] SET <--set overrides...>):
# one training run in runs/<run folder> (default: the test's name), its metrics in
# metrics.jsonl there; provides the fixture <test name> and, with AFTER, runs after that test.
function(replicated_train name)
  cmake_parse_arguments(ARG "" "RUN;AFTER" "SET" ${ARGN})
  if(NOT ARG_RUN)
    set(ARG_RUN ${name})
  endif()
  set(overrides)
  foreach(override IN LISTS ARG_SET)
    list(APPEND overrides --set ${override})
  endforeach()
  add_test(NAME ${name}
           COMMAND ${CMAKE_COMMAND} -E env
                   "TRELLIS_PLUGIN_PATH=$<TARGET_FILE_DIR:trellis_layers_replicated>"
                   ${TRELLIS_TRAIN_EXECUTABLE} ${CMAKE_CURRENT_BINARY_DIR}/tiny.toml
                   --set run.out_dir=${replicated_runs}/${ARG_RUN} ${overrides})
  set_tests_properties(${name} PROPERTIES FIXTURES_SETUP ${name} TIMEOUT 300)
  if(ARG_AFTER)
    set_tests_properties(${name} PROPERTIES FIXTURES_REQUIRED ${ARG_AFTER})
  endif()
endfunction()

replicated_train(replicated_tp1 SET parallel.tensor_mode=replicated)
replicated_train(onedim_tp1 SET parallel.tensor_mode=1d)
set(replicated_tensor2 parallel.tensor=2 launch.nproc=2)
replicated_train(replicated_tp2 SET parallel.tensor_mode=replicated ${replicated_tensor2})
# Two pipeline stages under the zero-bubble schedule: the head on the second stage owns its copy
# of the tied token table, and backward runs split (backward_input, later backward_weight).
# Compared with the 1d family under the same layout: the tied gradients are summed across the
# stages in the same order for both.
set(replicated_pipeline2 parallel.pipeline=2 parallel.schedule=zbh1 launch.nproc=2)
replicated_train(replicated_pp2 SET parallel.tensor_mode=replicated ${replicated_pipeline2})
replicated_train(onedim_pp2 SET parallel.tensor_mode=1d ${replicated_pipeline2})
# Checkpoints hand over between families: two steps under this family at tensor 2 write a
# checkpoint (each parameter whole, held twice), then the 1d family at tensor 1 resumes from it
# for steps 3 and 4, appending to the same metrics.jsonl, which must then read as onedim_tp1's.
replicated_train(handover_replicated_tp2 RUN handover
                 SET parallel.tensor_mode=replicated ${replicated_tensor2} run.steps=2
                     checkpoint.every=2)
replicated_train(handover_onedim_tp1 RUN handover AFTER handover_replicated_tp2
                 SET parallel.tensor_mode=1d checkpoint.resume=true)

# replicated_compare(<test name> <expected run> <actual run>)
function(replicated_compare name expected actual)
  add_test(NAME ${name}
           COMMAND compare_metrics ${replicated_runs}/${expected}/metrics.jsonl
                   ${replicated_runs}/${actual}/metrics.jsonl 1e-6)
  set_tests_properties(${name} PROPERTIES FIXTURES_REQUIRED "${expected};${actual}")
  if(actual STREQUAL "handover")  # the run folder of two tests: require the second
    set_tests_properties(${name} PROPERTIES FIXTURES_REQUIRED "${expected};handover_onedim_tp1")
  endif()
endfunction()

replicated_compare(replicated_matches_1d onedim_tp1 replicated_tp1)
replicated_compare(replicated_tp2_matches_tp1 replicated_tp1 replicated_tp2)
replicated_compare(replicated_pp2_matches_1d onedim_pp2 replicated_pp2)
replicated_compare(checkpoint_hands_over_to_1d onedim_tp1 handover)

# Full recomputation is Trellis core's and needs nothing of a family: the blocks' forward runs
# again before their backward (once, in the input gradient, under the zero-bubble schedule's
# split backward), the same kernels on the same values, so the figures are bit-identical
# (tolerance 0).
replicated_train(replicated_pp2_full
                 SET parallel.tensor_mode=replicated ${replicated_pipeline2} train.recompute=full)
replicated_compare(replicated_full_recompute_is_exact replicated_pp2 replicated_pp2_full)
set_tests_properties(replicated_full_recompute_is_exact PROPERTIES
                     PASS_REGULAR_EXPRESSION "bit-identical")
# Selective recomputation is the family's (its descriptor's recomputes_attention), which this
# family does not offer: the config check refuses it, naming the key and what would work.
add_test(NAME replicated_selective_refused
         COMMAND ${CMAKE_COMMAND} -E env
                 "TRELLIS_PLUGIN_PATH=$<TARGET_FILE_DIR:trellis_layers_replicated>"
                 ${TRELLIS_TRAIN_EXECUTABLE} ${CMAKE_CURRENT_BINARY_DIR}/tiny.toml --dry-run
                 --set parallel.tensor_mode=replicated --set train.recompute=selective)
set_tests_properties(replicated_selective_refused PROPERTIES
                     PASS_REGULAR_EXPRESSION "does not recompute attention.*recompute = .full.")

# The descriptor and the check hook, through Trellis's plugin registry.
add_executable(test_replicated_check ${CMAKE_CURRENT_LIST_DIR}/test_replicated_check.cpp)
target_link_libraries(test_replicated_check PRIVATE Trellis::sdk)
target_compile_features(test_replicated_check PRIVATE cxx_std_20)
target_compile_options(test_replicated_check PRIVATE -Wall -Wextra)
add_test(NAME replicated_check
         COMMAND test_replicated_check $<TARGET_FILE:trellis_layers_replicated>)

# trellis-plan plans the family from its describe_cost and ranks it in --search (the installed
# trellis-plan, beside trellis-train).
if(NOT TRELLIS_PLAN_EXECUTABLE)
  get_filename_component(replicated_bin "${TRELLIS_TRAIN_EXECUTABLE}" DIRECTORY)
  find_program(TRELLIS_PLAN_EXECUTABLE trellis-plan HINTS "${replicated_bin}" NO_DEFAULT_PATH)
endif()
add_test(NAME replicated_planned
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/replicated_plan_test.sh ${TRELLIS_PLAN_EXECUTABLE}
                 ${CMAKE_CURRENT_BINARY_DIR}/tiny.toml $<TARGET_FILE_DIR:trellis_layers_replicated>)
set_tests_properties(replicated_planned PROPERTIES TIMEOUT 120)
