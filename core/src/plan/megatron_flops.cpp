#include "plan/megatron_flops.h"

namespace trellis::plan {

double megatron_iteration_flops(std::int64_t global_batch, std::int64_t seq_len,
                                std::int64_t layers, std::int64_t hidden, std::int64_t vocab) {
  const double B = static_cast<double>(global_batch), s = static_cast<double>(seq_len);
  const double l = static_cast<double>(layers), h = static_cast<double>(hidden);
  const double V = static_cast<double>(vocab);
  return 96.0 * B * s * l * h * h * (1.0 + s / (6.0 * h) + V / (16.0 * l * h));
}

}  // namespace trellis::plan
