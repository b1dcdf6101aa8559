// Crashes on purpose, for the tests of what a run leaves behind when a rank dies. Armed only by
// the environment variable TRELLIS_TEST_FAULT=<point>:<rank>:<step> (e.g. "step:1:3"): world
// rank <rank> kills itself with SIGKILL — no clean-up, as a crashed or OOM-killed process —
// when it reaches <point> of step <step> (1-based, the step being trained or saved):
//
//   step        after the step's forward and backward, before the optimizer update
//   checkpoint  in the save of that step, after this rank's shard files are written and synced,
//               before the others know (the save is left half-done)
//
// Unset (every real run), each check is one comparison. The variable is read with the rest of the
// run's environment (config/run_environment.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace trellis {

class TestFaults {
 public:
  // From TRELLIS_TEST_FAULT's value (RunEnvironment::test_fault); throws InputError when it is
  // set but malformed.
  static TestFaults from_setting(const std::optional<std::string>& spec, int rank);

  void at_step(std::int64_t step) const { fire("step", step); }
  void in_checkpoint(std::int64_t step) const { fire("checkpoint", step); }

 private:
  void fire(const char* point, std::int64_t step) const;

  std::optional<std::string> point_;
  std::int64_t step_ = 0;
};

}  // namespace trellis
