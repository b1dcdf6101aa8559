// Skipping a test case visibly. A case that cannot run here (its backend is not built, no GPU,
// fewer GPUs than it needs, no mpirun) says why instead of passing without checking anything:
//
//   TEST_CASE("..." * doctest::test_suite("needs_two_gpus")) {
//     TRELLIS_SKIP_CASE_IF(gpus < 2, "needs 2 GPUs, this machine has " + std::to_string(gpus));
//
// prints "SKIPPED: <the case>: <reason>" and leaves the case; the program's main then exits 77
// (unless a check failed), which ctest reports as skipped where the test has SKIP_RETURN_CODE 77.
// Such a case is put in a doctest test suite of its own and registered as a ctest entry of its own
// (trellis_add_test's SKIPPABLE), so that one skipped case does not hide the others' results.
#pragma once

#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <vector>

namespace trellis::test {

// The reasons of the cases skipped in this process. (A process-wide list, as doctest's own
// registry of cases is: the main that reports it is the only reader.)
inline std::vector<std::string>& skipped_cases() {
  static std::vector<std::string> reasons;
  return reasons;
}

inline void skip_case(const std::string& reason) {
  const doctest::TestCaseData* current = doctest::getContextOptions()->currentTest;
  const std::string line = std::string(current ? current->m_name : "a test case") + ": " + reason;
  std::printf("SKIPPED: %s\n", line.c_str());
  std::fflush(stdout);
  skipped_cases().push_back(line);
}

// What main returns after doctest's run returned `result`: 77 when cases were skipped and none
// failed, else `result`.
inline int exit_code_with_skips(int result) {
  if (result != 0 || skipped_cases().empty()) return result;
  std::printf("%zu test case(s) skipped:\n", skipped_cases().size());
  for (const std::string& line : skipped_cases()) std::printf("  %s\n", line.c_str());
  return 77;
}

}  // namespace trellis::test

#define TRELLIS_SKIP_CASE_IF(condition, reason) \
  do {                                          \
    if (condition) {                            \
      ::trellis::test::skip_case(reason);       \
      return;                                   \
    }                                           \
  } while (0)
