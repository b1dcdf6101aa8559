#include "train/lr_schedule.h"

#include <cmath>

namespace trellis {

double learning_rate(const LrScheduleSpec& spec, std::int64_t step) {
  if (step < spec.warmup_steps) {
    return spec.lr * static_cast<double>(step + 1) / static_cast<double>(spec.warmup_steps);
  }
  if (!spec.cosine) return spec.lr;
  std::int64_t decay_steps = spec.total_steps - spec.warmup_steps;
  if (decay_steps <= 1) return spec.lr;
  double progress =
      static_cast<double>(step - spec.warmup_steps) / static_cast<double>(decay_steps - 1);
  if (progress > 1.0) progress = 1.0;
  const double pi = 3.14159265358979323846;
  return spec.min_lr + 0.5 * (spec.lr - spec.min_lr) * (1.0 + std::cos(pi * progress));
}

}  // namespace trellis
