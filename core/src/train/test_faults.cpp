#include "train/test_faults.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>

#include "trellis/error.h"

namespace trellis {

TestFaults TestFaults::from_setting(const std::optional<std::string>& setting, int rank) {
  TestFaults faults;
  if (!setting || setting->empty()) return faults;
  const char* spec = setting->c_str();
  char point[32] = {};
  int fault_rank = -1;
  long long step = -1;
  if (std::sscanf(spec, "%31[a-z]:%d:%lld", point, &fault_rank, &step) != 3 ||
      (std::string(point) != "step" && std::string(point) != "checkpoint") || step < 1) {
    throw InputError(std::string("TRELLIS_TEST_FAULT=") + spec +
                     " is not valid; valid: step:<rank>:<step> or checkpoint:<rank>:<step>");
  }
  if (fault_rank == rank) {
    faults.point_ = point;
    faults.step_ = step;
  }
  return faults;
}

void TestFaults::fire(const char* point, std::int64_t step) const {
  if (!point_ || *point_ != point || step != step_) return;
  std::fprintf(stderr, "TRELLIS_TEST_FAULT: killing this rank at %s of step %lld\n", point,
               static_cast<long long>(step));
  std::fflush(stderr);
  ::kill(::getpid(), SIGKILL);
}

}  // namespace trellis
