// Faults on purpose, for the tests of what a run does when a rank dies or hangs. Armed only by
// the environment variable TRELLIS_TEST_FAULT=<point>:<rank>:<step> (e.g. "step:1:3"): world
// rank <rank> misbehaves at <point> of step <step> (1-based, the step being trained or saved):
//
//   step        kills itself with SIGKILL (no clean-up, as a crashed or OOM-killed process)
//               after the step's forward and backward, before the optimizer update
//   checkpoint  kills itself in the save of that step, after this rank's shard files are written
//               and synced, before the others know (the save is left half-done)
//   stop        stops itself with SIGSTOP after the step's forward and backward (a hung process:
//               alive, holding its connections, answering nothing)
//   skip        skips the step's loss all-reduce over the world (a rank that missed a collective)
//   mismatch    calls the step's loss all-reduce with two elements where the others pass one
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
  // Whether this rank skips, or miscounts, step `step`'s loss all-reduce.
  bool skips_loss_reduction(std::int64_t step) const { return armed("skip", step); }
  bool mismatches_loss_reduction(std::int64_t step) const { return armed("mismatch", step); }

 private:
  void fire(const char* point, std::int64_t step) const;
  bool armed(const char* point, std::int64_t step) const;

  std::optional<std::string> point_;
  std::int64_t step_ = 0;
};

}  // namespace trellis
