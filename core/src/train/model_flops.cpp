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

namespace {

// What each MoE block adds to the dense model's count when `experts_counted` of its experts are.
std::int64_t moe_extra(const ModelDims& d, const MoeSettings& moe, std::int64_t experts_counted) {
  if (moe.experts == 0) return 0;
  const std::int64_t C = d.hidden;
  const std::int64_t mlp = 4 * C * C + 4 * C + 4 * C * C + C;  // fc and projection
  std::int64_t moe_blocks = 0;
  for (std::int64_t i = 0; i < d.layers; ++i) moe_blocks += moe.is_moe_block(i) ? 1 : 0;
  return moe_blocks * (moe.experts * C + (experts_counted - 1) * mlp);
}

}  // namespace

std::int64_t active_parameter_count(const ModelDims& d, const MoeSettings& moe) {
  return parameter_count(d) + moe_extra(d, moe, moe.top_k);
}

std::int64_t parameter_count(const ModelDims& d, const MoeSettings& moe) {
  return parameter_count(d) + moe_extra(d, moe, moe.experts);
}

double flops_per_token(const ModelDims& d, const MoeSettings& moe) {
  return 6.0 * static_cast<double>(active_parameter_count(d, moe)) +
         12.0 * static_cast<double>(d.layers) * static_cast<double>(d.hidden) *
             static_cast<double>(d.seq_len);
}

double flops_per_token(const ModelDims& d) {
  return flops_per_token(d, MoeSettings{});
}

double model_flops_utilization(double model_flops, double seconds, double peak_flops_per_s) {
  return model_flops / seconds / peak_flops_per_s;
}

}  // namespace trellis
