// Training on one rank of any layout: the loop that reads this rank's share of a step's batch,
// runs its pipeline actions (forwards and backwards of the stages it holds), completes the
// gradients over the data-parallel replicas and the tied token table, clips the global gradient
// norm, takes the AdamW step and reports the step's figures (world rank 0).
#pragma once

#include <cstdio>
#include <memory>

#include "config/resolved_run.h"
#include "config/run_environment.h"
#include "kernels/compute_device.h"

namespace trellis {

struct TrainSummary {
  std::int64_t steps = 0;
  double first_loss = 0.0;
  double final_loss = 0.0;
  std::optional<double> val_loss;
  double seconds = 0.0;
  bool reports = true;  // this rank is the one that prints (world rank 0)
};

class Trainer {
 public:
  // Builds the model from the run's layer family, initialises or loads it, opens the data.
  // Throws InputError for bad input the config check could not see (e.g. a token id >= vocab).
  // `environment` is the one the run was loaded with: the rank's place in the world and the
  // test-only settings come from it.
  // `wrap_device` replaces the rank's device by a test device (kernels/compute_device.h); the
  // apps pass none.
  Trainer(const ResolvedRun& run, const RunEnvironment& environment, std::FILE* console,
          const DeviceWrapper& wrap_device = {});
  ~Trainer();

  TrainSummary train();

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace trellis
