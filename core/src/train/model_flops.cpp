#include "train/model_flops.h"

namespace trellis {

std::int64_t parameter_count(const ModelDims& d) {
  const std::int64_t C = d.hidden;
  const std::int64_t per_block = 2 * C                // ln1
                                 + 3 * C * C + 3 * C  // qkv
                                 + C * C + C          // attention projection
                                 + 2 * C              // ln2
                                 + 4 * C * C + 4 * C  // fc
                                 + 4 * C * C + C;     // mlp projection
  return d.padded_vocab * C + d.max_seq_len * C + d.layers * per_block + 2 * C;
}

double flops_per_token(const ModelDims& d) {
  return 6.0 * static_cast<double>(parameter_count(d)) + 12.0 * static_cast<double>(d.layers) *
                                                             static_cast<double>(d.hidden) *
                                                             static_cast<double>(d.seq_len);
}

double model_flops_utilization(double model_flops, double seconds, double peak_flops_per_s) {
  return model_flops / seconds / peak_flops_per_s;
}

}  // namespace trellis
