# One MFU peak for every test, measured once.
#
# A trellis-train run with neither [device] peak_gflops nor a calibration probes the sgemm rate for
# about a second at start-up (train/mfu_peak.h) while its other ranks wait: most of a small test
# run's time, in each of the several hundred runs the suite starts. So the suite calibrates once:
# ctest includes a generated script (from test_peak_calibration.cmake.in) before it starts any
# test, which points XDG_CACHE_HOME at the build's own cache directory, in ctest's environment, so
# every test and every rank it starts inherits it, and runs `trellis-bench peak` there when that
# directory holds no calibration yet for the OpenBLAS kernels this ctest runs under. Runs then take
# their peak from the calibration (`peak_source` "calibration"), as a user's would after
# `trellis-bench peak`; the user's own ~/.cache/trellis is neither read nor written. The tests of
# the probe and of the calibration itself (test_mfu_peak, test_mfu_run) set a cache directory of
# their own, and a run under a thread count the calibration has no entry for probes, as before.
#
# (A fixture test would show the calibration in ctest's list, but CMake 3.25 cannot set a
# property on the tests of another directory, and every folder adds its own.)
function(trellis_tests_share_peak_calibration)
  set(TRELLIS_TEST_CACHE_DIR ${PROJECT_BINARY_DIR}/tests/cache)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/test_peak_calibration.cmake.in
                 ${PROJECT_BINARY_DIR}/test_peak_calibration.cmake.gen @ONLY)
  file(GENERATE OUTPUT ${PROJECT_BINARY_DIR}/test_peak_calibration.cmake
       INPUT ${PROJECT_BINARY_DIR}/test_peak_calibration.cmake.gen)
  set_property(DIRECTORY ${PROJECT_SOURCE_DIR} APPEND PROPERTY TEST_INCLUDE_FILES
               ${PROJECT_BINARY_DIR}/test_peak_calibration.cmake)
endfunction()
