#include "replicated_block.h"

#include <cmath>

#include "replicated_parameter.h"

namespace replicated {

namespace {
constexpr float kWeightStd = 0.02f;  // GPT-2's initialisation of the matrices
}  // namespace

ReplicatedBlock::ReplicatedBlock(const ReplicatedContext& ctx, int index)
    : ctx_(ctx), name_("h." + std::to_string(index)) {
  const std::int64_t C = ctx.dims.hidden, H = 4 * C;
  // GPT-2 scales the projections that write into the residual stream by 1/sqrt(2 * layers).
  const float residual_std = kWeightStd / std::sqrt(2.0f * static_cast<float>(ctx.dims.layers));
  const std::string p = name_ + ".";
  const auto make = [&](const std::string& suffix, const trellis::Shape& shape, bool decay,
                        trellis::ParamInit init) {
    return make_replicated_parameter(ctx, p + suffix, shape, decay, init);
  };
  ln1_weight_ = make("ln1.weight", {C}, false, ones_init());
  ln1_bias_ = make("ln1.bias", {C}, false, zeros_init());
  // [3, C, C]: the Q, K and V matrices stacked, the shape every family gives this parameter (the
  // tensor-parallel ones split its middle dimension by heads).
  qkv_weight_ = make("attn.qkv.weight", {3, C, C}, true, normal_init(kWeightStd));
  qkv_bias_ = make("attn.qkv.bias", {3, C}, false, zeros_init());
  attn_proj_weight_ = make("attn.proj.weight", {C, C}, true, normal_init(residual_std));
  attn_proj_bias_ = make("attn.proj.bias", {C}, false, zeros_init());
  ln2_weight_ = make("ln2.weight", {C}, false, ones_init());
  ln2_bias_ = make("ln2.bias", {C}, false, zeros_init());
  fc_weight_ = make("mlp.fc.weight", {H, C}, true, normal_init(kWeightStd));
  fc_bias_ = make("mlp.fc.bias", {H}, false, zeros_init());
  mlp_proj_weight_ = make("mlp.proj.weight", {C, H}, true, normal_init(residual_std));
  mlp_proj_bias_ = make("mlp.proj.bias", {C}, false, zeros_init());
}

std::vector<trellis::Parameter*> ReplicatedBlock::parameters() {
  return {&ln1_weight_, &ln1_bias_, &qkv_weight_, &qkv_bias_, &attn_proj_weight_, &attn_proj_bias_,
          &ln2_weight_, &ln2_bias_, &fc_weight_,  &fc_bias_,  &mlp_proj_weight_,  &mlp_proj_bias_};
}

trellis::Tensor ReplicatedBlock::forward(const trellis::Microbatch& mb,
                                         const trellis::Tensor& input) {
  const std::int64_t B = ctx_.micro_batch, T = ctx_.dims.seq_len, C = ctx_.dims.hidden;
  const std::int64_t N = B * T, H = 4 * C;
  const int heads = static_cast<int>(ctx_.dims.heads);
  trellis::Kernels& k = *ctx_.kernels;
  Stash unkept;  // inference keeps nothing for backward
  Stash& s = mb.training ? stashes_.open(mb.id, name_) : unkept;

  s.x = input;
  s.ln1 = ctx_.empty({B, T, C});
  s.ln1_mean = ctx_.empty({N});
  s.ln1_rstd = ctx_.empty({N});
  k.layernorm_forward(s.x, ln1_weight_.value, ln1_bias_.value, s.ln1, s.ln1_mean, s.ln1_rstd);
  s.qkv = ctx_.empty({B, T, 3 * C});
  k.linear_forward(s.ln1, qkv_weight_.value.view({3 * C, C}), qkv_bias_.value.view({3 * C}), s.qkv);
  s.probs = ctx_.empty({B, heads, T, T});
  s.att = ctx_.empty({B, T, C});
  k.attention_forward(s.qkv, heads, s.att, s.probs);
  s.res2 = ctx_.empty({B, T, C});
  k.linear_forward(s.att, attn_proj_weight_.value, attn_proj_bias_.value, s.res2);
  k.add(s.res2, s.x, s.res2);

  s.ln2 = ctx_.empty({B, T, C});
  s.ln2_mean = ctx_.empty({N});
  s.ln2_rstd = ctx_.empty({N});
  k.layernorm_forward(s.res2, ln2_weight_.value, ln2_bias_.value, s.ln2, s.ln2_mean, s.ln2_rstd);
  s.fc = ctx_.empty({B, T, H});
  k.linear_forward(s.ln2, fc_weight_.value, fc_bias_.value, s.fc);
  s.gelu = ctx_.empty({B, T, H});
  k.gelu_forward(s.fc, s.gelu);
  trellis::Tensor out = ctx_.empty({B, T, C});
  k.linear_forward(s.gelu, mlp_proj_weight_.value, mlp_proj_bias_.value, out);
  k.add(out, s.res2, out);
  return out;
}

trellis::Tensor ReplicatedBlock::backward_input(const trellis::Microbatch& mb,
                                                const trellis::Tensor& grad_output) {
  const std::int64_t B = ctx_.micro_batch, T = ctx_.dims.seq_len, C = ctx_.dims.hidden;
  const std::int64_t N = B * T, H = 4 * C;
  const int heads = static_cast<int>(ctx_.dims.heads);
  trellis::Kernels& k = *ctx_.kernels;
  Stash& s = stashes_.at(mb.id, name_);

  // MLP, output to input. The input gradients of the linears are plain matmuls: their weight
  // gradients wait for backward_weight. d(gelu) is turned into d(fc) in place.
  s.d_out = grad_output;
  s.d_fc = ctx_.empty({B, T, H});
  k.matmul(s.d_out.view({N, C}), false, mlp_proj_weight_.value, false, s.d_fc.view({N, H}));
  k.gelu_backward(s.fc, s.d_fc, s.d_fc);
  trellis::Tensor d_ln2 = ctx_.empty({B, T, C});
  k.matmul(s.d_fc.view({N, H}), false, fc_weight_.value, false, d_ln2.view({N, C}));
  s.d_res2 = ctx_.empty({B, T, C});
  k.layernorm_backward(d_ln2, s.res2, ln2_weight_.value, s.ln2_mean, s.ln2_rstd, s.d_res2,
                       ln2_weight_.grad, ln2_bias_.grad);
  k.accumulate(s.d_res2, grad_output);  // the residual path

  // Attention, output to input.
  trellis::Tensor d_att = ctx_.empty({B, T, C});
  k.matmul(s.d_res2.view({N, C}), false, attn_proj_weight_.value, false, d_att.view({N, C}));
  s.d_qkv = ctx_.empty({B, T, 3 * C});
  k.attention_backward(d_att, s.qkv, s.probs, heads, s.d_qkv);
  trellis::Tensor d_ln1 = ctx_.empty({B, T, C});
  k.matmul(s.d_qkv.view({N, 3 * C}), false, qkv_weight_.value.view({3 * C, C}), false,
           d_ln1.view({N, C}));
  s.d_x = ctx_.empty({B, T, C});
  k.layernorm_backward(d_ln1, s.x, ln1_weight_.value, s.ln1_mean, s.ln1_rstd, s.d_x,
                       ln1_weight_.grad, ln1_bias_.grad);
  k.accumulate(s.d_x, s.d_res2);  // the residual path

  // Keep only what the weight gradients need (the linears' inputs and output gradients), so a
  // deferred backward_weight holds as little memory as it can.
  s.x = s.ln1_mean = s.ln1_rstd = s.qkv = s.probs = s.res2 = trellis::Tensor();
  s.ln2_mean = s.ln2_rstd = s.fc = trellis::Tensor();
  return s.d_x;
}

void ReplicatedBlock::backward_weight(const trellis::Microbatch& mb) {
  const std::int64_t C = ctx_.dims.hidden;
  trellis::Kernels& k = *ctx_.kernels;
  Stash& s = stashes_.at(mb.id, name_);
  const trellis::Tensor no_input_grad;
  k.linear_backward(s.d_out, s.gelu, mlp_proj_weight_.value, no_input_grad, mlp_proj_weight_.grad,
                    mlp_proj_bias_.grad);
  k.linear_backward(s.d_fc, s.ln2, fc_weight_.value, no_input_grad, fc_weight_.grad, fc_bias_.grad);
  k.linear_backward(s.d_res2, s.att, attn_proj_weight_.value, no_input_grad, attn_proj_weight_.grad,
                    attn_proj_bias_.grad);
  k.linear_backward(s.d_qkv, s.ln1, qkv_weight_.value.view({3 * C, C}), no_input_grad,
                    qkv_weight_.grad.view({3 * C, C}), qkv_bias_.grad.view({3 * C}));
  stashes_.close(mb.id);
}

}  // namespace replicated
