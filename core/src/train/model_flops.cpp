#include "train/model_flops.h"

namespace trellis {

namespace {

ModelArchitecture gpt2_of(const ModelDims& d) {
  return ModelArchitecture::gpt2(d.hidden, d.heads);
}

// One dense MLP's parameters: GELU's fc [F, C] and projection [C, F], or SwiGLU's gate and up
// [2F, C] and down [C, F]; with their biases.
std::int64_t mlp_parameters(const ModelDims& d, const ModelArchitecture& a) {
  const std::int64_t C = d.hidden;
  const std::int64_t F = a.ffn_hidden;
  const std::int64_t in = a.mlp == ModelArchitecture::Mlp::swiglu ? 2 * F : F;
  return in * C + F * C + (a.bias ? in + C : 0);
}

std::int64_t dense_parameters(const ModelDims& d, const ModelArchitecture& a) {
  const std::int64_t C = d.hidden;
  const std::int64_t kv = a.kv_heads * (C / d.heads);  // the width of keys (and of values)
  const std::int64_t norm = a.norm == ModelArchitecture::Norm::rmsnorm ? C : 2 * C;
  const std::int64_t qkv = C * (C + 2 * kv) + (a.bias ? C + 2 * kv : 0);
  const std::int64_t projection = C * C + (a.bias ? C : 0);  // attention's output
  const std::int64_t per_block = 2 * norm + qkv + projection + mlp_parameters(d, a);
  const std::int64_t positions =
      a.positions == ModelArchitecture::Positions::learned ? d.max_seq_len * C : 0;
  const std::int64_t head = a.tie_embeddings ? 0 : d.padded_vocab * C;
  return d.padded_vocab * C + positions + d.layers * per_block + norm + head;
}

// What each MoE block adds to the dense model's count when `experts_counted` of its experts are.
std::int64_t moe_extra(const ModelDims& d, const MoeSettings& moe, const ModelArchitecture& a,
                       std::int64_t experts_counted) {
  if (moe.experts == 0) return 0;
  std::int64_t moe_blocks = 0;
  for (std::int64_t i = 0; i < d.layers; ++i) moe_blocks += moe.is_moe_block(i) ? 1 : 0;
  return moe_blocks * (moe.experts * d.hidden + (experts_counted - 1) * mlp_parameters(d, a));
}

}  // namespace

std::int64_t parameter_count(const ModelDims& d) {
  return dense_parameters(d, gpt2_of(d));
}

std::int64_t active_parameter_count(const ModelDims& d, const MoeSettings& moe,
                                    const ModelArchitecture& arch) {
  return dense_parameters(d, arch) + moe_extra(d, moe, arch, moe.top_k);
}

std::int64_t parameter_count(const ModelDims& d, const MoeSettings& moe,
                             const ModelArchitecture& arch) {
  return dense_parameters(d, arch) + moe_extra(d, moe, arch, moe.experts);
}

double flops_per_token(const ModelDims& d, const MoeSettings& moe, const ModelArchitecture& arch) {
  return 6.0 * static_cast<double>(active_parameter_count(d, moe, arch)) +
         12.0 * static_cast<double>(d.layers) * static_cast<double>(d.hidden) *
             static_cast<double>(d.seq_len);
}

std::int64_t active_parameter_count(const ModelDims& d, const MoeSettings& moe) {
  return active_parameter_count(d, moe, gpt2_of(d));
}

std::int64_t parameter_count(const ModelDims& d, const MoeSettings& moe) {
  return parameter_count(d, moe, gpt2_of(d));
}

double flops_per_token(const ModelDims& d, const MoeSettings& moe) {
  return flops_per_token(d, moe, gpt2_of(d));
}

double flops_per_token(const ModelDims& d) {
  return flops_per_token(d, MoeSettings{});
}

double model_flops_utilization(double model_flops, double seconds, double peak_flops_per_s) {
  return model_flops / seconds / peak_flops_per_s;
}

}  // namespace trellis
