#include "train/test_faults.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iterator>

#include "trellis/error.h"

namespace trellis {

TestFaults TestFaults::from_setting(const std::optional<std::string>& setting, int rank) {
  TestFaults faults;
  if (!setting || setting->empty()) return faults;
  const char* spec = setting->c_str();
  char point[32] = {};
  int fault_rank = -1;
  long long step = -1;
  const std::string points[] = {"step", "checkpoint", "stop", "skip", "mismatch"};
  if (std::sscanf(spec, "%31[a-z]:%d:%lld", point, &fault_rank, &step) != 3 ||
      std::find(std::begin(points), std::end(points), point) == std::end(points) || step < 1) {
    throw InputError(std::string("TRELLIS_TEST_FAULT=") + spec +
                     " is not valid; valid: <point>:<rank>:<step> with <point> one of step, "
                     "checkpoint, stop, skip, mismatch (train/test_faults.h)");
  }
  if (fault_rank == rank) {
    faults.point_ = point;
    faults.step_ = step;
  }
  return faults;
}

bool TestFaults::armed(const char* point, std::int64_t step) const {
  return point_ && *point_ == point && step == step_;
}

void TestFaults::fire(const char* point, std::int64_t step) const {
  const bool stop = std::string(point) == "step" && armed("stop", step);
  if (!armed(point, step) && !stop) return;
  // "at step of step 2" would read oddly: the step point is after its forward and backward.
  const bool at_step = std::string(point) == "step";
  std::fprintf(stderr, "TRELLIS_TEST_FAULT: %s this rank %s %s of step %lld\n",
               stop ? "stopping" : "killing", at_step ? "after" : "in the",
               at_step ? "the forward and backward" : point, static_cast<long long>(step));
  std::fflush(stderr);
  ::kill(::getpid(), stop ? SIGSTOP : SIGKILL);
}

}  // namespace trellis
