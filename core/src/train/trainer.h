// Training on one rank: the loop that reads a step's batch, runs forward and backward over its
// microbatches, clips the gradient norm, takes the AdamW step and reports the step's figures.
#pragma once

#include <cstdio>
#include <memory>

#include "config/resolved_run.h"

namespace trellis {

struct TrainSummary {
  std::int64_t steps = 0;
  double first_loss = 0.0;
  double final_loss = 0.0;
  std::optional<double> val_loss;
  double seconds = 0.0;
};

class Trainer {
 public:
  // Builds the model from the run's layer family, initialises or loads it, opens the data.
  // Throws InputError for bad input the config check could not see (e.g. a token id >= vocab).
  Trainer(const ResolvedRun& run, std::FILE* console);
  ~Trainer();

  TrainSummary train();

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace trellis
