// The learning rate of each step: linear warm-up from lr/warmup to lr over the first
// `warmup_steps` steps, then constant, or a cosine from lr down to min_lr at the last step.
#pragma once

#include <cstdint>

namespace trellis {

struct LrScheduleSpec {
  bool cosine = true;
  double lr = 3e-4;
  double min_lr = 0.0;
  std::int64_t warmup_steps = 0;
  std::int64_t total_steps = 1;
};

// `step` counts from 0.
double learning_rate(const LrScheduleSpec& spec, std::int64_t step);

}  // namespace trellis
