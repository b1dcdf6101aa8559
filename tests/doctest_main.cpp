// The main of the doctest programs: doctest's, then exit 77 when a case was skipped
// (skip_case.h) and none failed.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "skip_case.h"

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  const int result = context.run();
  if (context.shouldExit()) return result;
  return trellis::test::exit_code_with_skips(result);
}
