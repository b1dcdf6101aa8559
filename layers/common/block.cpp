#include "block.h"

#include <cmath>

namespace trellis::layers {

namespace {

std::string layer_name(int index) {
  return "h." + std::to_string(index);
}

}  // namespace

Block::Block(const FamilyContext& ctx, int index) : ctx_(ctx), name_(layer_name(index)) {
  const std::int64_t C = ctx.dims.hidden;
  const std::int64_t Cl = ctx.local_hidden();
  const std::int64_t H = 4 * C;
  const std::int64_t Hl = H / ctx.tensor_size;
  const std::int64_t r = ctx.tensor_rank;
  const int tp = ctx.tensor_size;
  const float std = 0.02f;
  // GPT-2 scales the projections that write into the residual stream by 1/sqrt(2 * layers).
  const float residual_std = std / std::sqrt(2.0f * static_cast<float>(ctx.dims.layers));
  const auto& a = ctx.allocator;
  const std::string p = name_ + ".";

  ln1_w_ = make_parameter(p + "ln1.weight", {C}, replicated({C}, tp), false, ones(), a);
  ln1_b_ = make_parameter(p + "ln1.bias", {C}, replicated({C}, tp), false, zeros(), a);
  // Q, K and V each split by heads: this rank's rows of each of the three C x C blocks.
  qkv_w_ = make_parameter(p + "attn.qkv.weight", {3, Cl, C}, {{3, C, C}, {0, r * Cl, 0}, 1}, true,
                          normal(std), a);
  qkv_b_ =
      make_parameter(p + "attn.qkv.bias", {3, Cl}, {{3, C}, {0, r * Cl}, 1}, false, zeros(), a);
  // Row-parallel: this rank's columns (input channels) of the projection.
  proj_w_ = make_parameter(p + "attn.proj.weight", {C, Cl}, {{C, C}, {0, r * Cl}, 1}, true,
                           normal(residual_std), a);
  proj_b_ = make_parameter(p + "attn.proj.bias", {C}, replicated({C}, tp), false, zeros(), a);
  ln2_w_ = make_parameter(p + "ln2.weight", {C}, replicated({C}, tp), false, ones(), a);
  ln2_b_ = make_parameter(p + "ln2.bias", {C}, replicated({C}, tp), false, zeros(), a);
  if (ctx.moe.is_moe_block(index)) {
    moe_ = std::make_unique<MoeMlp>(ctx, p, name_);
  } else {
    fc_w_ = make_parameter(p + "mlp.fc.weight", {Hl, C}, {{H, C}, {r * Hl, 0}, 1}, true,
                           normal(std), a);
    fc_b_ = make_parameter(p + "mlp.fc.bias", {Hl}, {{H}, {r * Hl}, 1}, false, zeros(), a);
    fcproj_w_ = make_parameter(p + "mlp.proj.weight", {C, Hl}, {{C, H}, {0, r * Hl}, 1}, true,
                               normal(residual_std), a);
    fcproj_b_ = make_parameter(p + "mlp.proj.bias", {C}, replicated({C}, tp), false, zeros(), a);
  }
}

std::vector<Parameter*> Block::parameters() {
  std::vector<Parameter*> out = {&ln1_w_,  &ln1_b_,  &qkv_w_, &qkv_b_,
                                 &proj_w_, &proj_b_, &ln2_w_, &ln2_b_};
  if (moe_) {
    for (Parameter* p : moe_->parameters()) out.push_back(p);
  } else {
    for (Parameter* p : {&fc_w_, &fc_b_, &fcproj_w_, &fcproj_b_}) out.push_back(p);
  }
  return out;
}

Tensor Block::forward(const Microbatch& mb, const Tensor& input) {
  const std::int64_t B = ctx_.micro_batch, T = ctx_.seq_len(), C = ctx_.dims.hidden;
  const std::int64_t Tl = ctx_.local_seq_len(), Nl = B * Tl;
  const std::int64_t Cl = ctx_.local_hidden(), Hl = 4 * C / ctx_.tensor_size;
  const int heads = static_cast<int>(ctx_.local_heads());
  Kernels& k = *ctx_.kernels;
  TokenRegion& region = *ctx_.region;
  // The row-parallel biases are added once: by tensor rank 0, before the reduce.
  const bool adds_row_bias = ctx_.tensor_rank == 0;

  Stash local;
  Stash& s = mb.training ? stashes_.create(mb.id, name_) : local;
  s.x = input;
  s.ln1 = ctx_.empty({B, Tl, C});
  s.ln1_mean = ctx_.empty({Nl});
  s.ln1_rstd = ctx_.empty({Nl});
  k.layernorm_forward(s.x, ln1_w_.value, ln1_b_.value, s.ln1, s.ln1_mean, s.ln1_rstd);

  Tensor qkv = ctx_.empty({B, T, 3 * Cl});
  k.linear_forward(region.gather(s.ln1), qkv_w_.value.view({3 * Cl, C}),
                   qkv_b_.value.view({3 * Cl}), qkv);
  s.qkv = region.to_sequence_order(qkv);
  Tensor att = ctx_.empty({B, T, Cl});
  s.attention = attention_core_forward(ctx_.attention_core(), s.qkv, heads, att, mb.training);
  s.att = region.to_region_order(att);

  Tensor proj = ctx_.empty({B, T, C});
  k.linear_forward(s.att, proj_w_.value, adds_row_bias ? proj_b_.value : Tensor(), proj);
  s.res2 = region.reduce(proj);
  k.add(s.res2, s.x, s.res2);

  s.ln2 = ctx_.empty({B, Tl, C});
  s.ln2_mean = ctx_.empty({Nl});
  s.ln2_rstd = ctx_.empty({Nl});
  k.layernorm_forward(s.res2, ln2_w_.value, ln2_b_.value, s.ln2, s.ln2_mean, s.ln2_rstd);
  Tensor fcproj;
  if (moe_) {
    fcproj = moe_->forward(mb, region.gather(s.ln2));
  } else {
    s.fc = ctx_.empty({B, T, Hl});
    k.linear_forward(region.gather(s.ln2), fc_w_.value, fc_b_.value, s.fc);
    s.gelu = ctx_.empty({B, T, Hl});
    k.gelu_forward(s.fc, s.gelu);
    fcproj = ctx_.empty({B, T, C});
    k.linear_forward(s.gelu, fcproj_w_.value, adds_row_bias ? fcproj_b_.value : Tensor(), fcproj);
  }
  s.out = region.reduce(fcproj);
  k.add(s.out, s.res2, s.out);
  return s.out;
}

Tensor Block::backward_input(const Microbatch& mb, const Tensor& grad_output) {
  const std::int64_t B = ctx_.micro_batch, T = ctx_.seq_len(), C = ctx_.dims.hidden;
  const std::int64_t Tl = ctx_.local_seq_len(), N = B * T;
  const std::int64_t Cl = ctx_.local_hidden(), Hl = 4 * C / ctx_.tensor_size;
  const int heads = static_cast<int>(ctx_.local_heads());
  Kernels& k = *ctx_.kernels;
  TokenRegion& region = *ctx_.region;
  Stash& s = stashes_.get(mb.id, name_);
  s.norm_grads = NormGradients(ctx_, {&ln1_w_, &ln1_b_, &ln2_w_, &ln2_b_});

  // MLP: through the row-parallel projection, GELU and the column-parallel fc.
  // d(gelu) is computed into d_fc's buffer and turned into d(fc) in place.
  s.d_out_all = region.gather(grad_output);
  Tensor d_ln2_all;
  if (moe_) {
    d_ln2_all = moe_->backward_input(mb, s.d_out_all);
  } else {
    s.d_fc = ctx_.empty({B, T, Hl});
    k.matmul(s.d_out_all.view({N, C}), false, fcproj_w_.value, false, s.d_fc.view({N, Hl}));
    k.gelu_backward(s.fc, s.d_fc, s.d_fc);
    d_ln2_all = ctx_.empty({B, T, C});
    k.matmul(s.d_fc.view({N, Hl}), false, fc_w_.value, false, d_ln2_all.view({N, C}));
  }
  Tensor d_ln2 = region.reduce(d_ln2_all);
  Tensor d_res2 = ctx_.empty({B, Tl, C});
  k.layernorm_backward(d_ln2, s.res2, ln2_w_.value, s.ln2_mean, s.ln2_rstd, d_res2,
                       s.norm_grads.grad(2), s.norm_grads.grad(3));
  k.accumulate(d_res2, grad_output);

  // Attention: through the row-parallel projection, attention and the column-parallel QKV.
  s.d_res2_all = region.gather(d_res2);
  Tensor d_att = ctx_.empty({B, T, Cl});
  k.matmul(s.d_res2_all.view({N, C}), false, proj_w_.value, false, d_att.view({N, Cl}));
  Tensor d_qkv = ctx_.empty({B, T, 3 * Cl});
  attention_core_backward(ctx_.attention_core(), region.to_sequence_order(d_att), s.qkv, heads,
                          s.attention, d_qkv, name_, mb.id);
  s.d_qkv = region.to_region_order(d_qkv);
  Tensor d_ln1_all = ctx_.empty({B, T, C});
  k.matmul(s.d_qkv.view({N, 3 * Cl}), false, qkv_w_.value.view({3 * Cl, C}), false,
           d_ln1_all.view({N, C}));
  Tensor d_ln1 = region.reduce(d_ln1_all);
  s.d_x = ctx_.empty({B, Tl, C});
  k.layernorm_backward(d_ln1, s.x, ln1_w_.value, s.ln1_mean, s.ln1_rstd, s.d_x,
                       s.norm_grads.grad(0), s.norm_grads.grad(1));
  k.accumulate(s.d_x, d_res2);

  // Keep only what the weight gradients need (inputs of the linear layers, the LayerNorm
  // outputs as this rank's shards, and the gradients of the linears' outputs), so a deferred
  // backward_weight holds as little memory as possible.
  s.x = s.ln1_mean = s.ln1_rstd = s.qkv = s.res2 = Tensor();
  s.attention = {};
  s.ln2_mean = s.ln2_rstd = s.fc = s.out = Tensor();
  return s.d_x;
}

void Block::backward_weight(const Microbatch& mb) {
  const std::int64_t C = ctx_.dims.hidden, Cl = ctx_.local_hidden();
  Kernels& k = *ctx_.kernels;
  TokenRegion& region = *ctx_.region;
  Stash& s = stashes_.get(mb.id, name_);
  if (moe_) {
    moe_->backward_weight(mb);
  } else {
    k.linear_backward(s.d_out_all, s.gelu, fcproj_w_.value, Tensor(), fcproj_w_.grad,
                      fcproj_b_.grad);
    k.linear_backward(s.d_fc, region.gather(s.ln2), fc_w_.value, Tensor(), fc_w_.grad, fc_b_.grad);
  }
  k.linear_backward(s.d_res2_all, s.att, proj_w_.value, Tensor(), proj_w_.grad, proj_b_.grad);
  k.linear_backward(s.d_qkv, region.gather(s.ln1), qkv_w_.value.view({3 * Cl, C}), Tensor(),
                    qkv_w_.grad.view({3 * Cl, C}), qkv_b_.grad.view({3 * Cl}));
  s.norm_grads.finish(ctx_);
  stashes_.erase(mb.id);
}

}  // namespace trellis::layers
