#include "block.h"

#include <cmath>

namespace trellis::layers {

namespace {

std::string layer_name(int index) {
  return "h." + std::to_string(index);
}

}  // namespace

Block::Block(const FamilyContext& ctx, int index)
    : ctx_(ctx),
      name_(layer_name(index)),
      ln1_(ctx, name_ + ".ln1"),
      ln2_(ctx, name_ + ".ln2"),
      qkv_(ctx, name_ + ".attn.") {
  const std::int64_t C = ctx.dims.hidden;
  const std::int64_t Cl = ctx.local_hidden();
  const std::int64_t r = ctx.tensor_rank;
  const int tp = ctx.tensor_size;
  // GPT-2 scales the projections that write into the residual stream by 1/sqrt(2 * layers).
  const float residual_std = 0.02f / std::sqrt(2.0f * static_cast<float>(ctx.dims.layers));
  const auto& a = ctx.allocator;
  const std::string p = name_ + ".";

  // Row-parallel: this rank's columns (input channels) of the projection.
  proj_w_ = make_parameter(p + "attn.proj.weight", {C, Cl}, {{C, C}, {0, r * Cl}, 1}, true,
                           normal(residual_std), a);
  if (ctx.arch.bias) {
    proj_b_ = make_parameter(p + "attn.proj.bias", {C}, replicated({C}, tp), false, zeros(), a);
  }
  if (ctx.moe.is_moe_block(index)) {
    moe_ = std::make_unique<MoeMlp>(ctx, p, name_);
  } else {
    mlp_ = DenseMlp(ctx, p + "mlp.", residual_std);
  }
}

std::vector<Parameter*> Block::norm_parameters() {
  std::vector<Parameter*> out = ln1_.parameters();
  for (Parameter* p : ln2_.parameters()) out.push_back(p);
  return out;
}

std::vector<Parameter*> Block::parameters() {
  std::vector<Parameter*> out = ln1_.parameters();
  for (Parameter* p : qkv_.parameters()) out.push_back(p);
  out.push_back(&proj_w_);
  if (proj_b_.value.defined()) out.push_back(&proj_b_);
  for (Parameter* p : ln2_.parameters()) out.push_back(p);
  for (Parameter* p : moe_ ? moe_->parameters() : mlp_.parameters()) out.push_back(p);
  return out;
}

Tensor Block::forward(const Microbatch& mb, const Tensor& input) {
  const std::int64_t B = ctx_.micro_batch, T = ctx_.seq_len(), C = ctx_.dims.hidden;
  const std::int64_t Cl = ctx_.local_hidden();
  const int heads = static_cast<int>(ctx_.local_heads());
  Kernels& k = *ctx_.kernels;
  TokenRegion& region = *ctx_.region;
  // The row-parallel biases are added once: by tensor rank 0, before the reduce.
  const bool adds_row_bias = ctx_.tensor_rank == 0 && proj_b_.value.defined();

  Stash local;
  Stash& s = mb.training ? stashes_.create(mb.id, name_) : local;
  s.x = input;
  s.ln1 = ln1_.forward(ctx_, s.x, s.ln1_saved);

  s.qkv = region.to_sequence_order(qkv_.forward(ctx_, region.gather(s.ln1)));
  rotate_queries_and_keys(ctx_, s.qkv, false);
  Tensor att = ctx_.empty({B, T, Cl});
  s.attention = attention_core_forward(ctx_.attention_core(), s.qkv, heads, att, mb.training);
  s.att = region.to_region_order(att);

  Tensor proj = ctx_.empty({B, T, C});
  k.linear_forward(s.att, proj_w_.value, adds_row_bias ? proj_b_.value : Tensor(), proj);
  s.res2 = region.reduce(proj);
  k.add(s.res2, s.x, s.res2);

  s.ln2 = ln2_.forward(ctx_, s.res2, s.ln2_saved);
  Tensor mlp_out = moe_ ? moe_->forward(mb, region.gather(s.ln2))
                        : mlp_.forward(ctx_, region.gather(s.ln2), s.mlp);
  s.out = region.reduce(mlp_out);
  k.add(s.out, s.res2, s.out);
  return s.out;
}

Tensor Block::backward_input(const Microbatch& mb, const Tensor& grad_output) {
  const std::int64_t B = ctx_.micro_batch, T = ctx_.seq_len(), C = ctx_.dims.hidden;
  const std::int64_t Tl = ctx_.local_seq_len(), N = B * T;
  const std::int64_t Cl = ctx_.local_hidden();
  const int heads = static_cast<int>(ctx_.local_heads());
  Kernels& k = *ctx_.kernels;
  TokenRegion& region = *ctx_.region;
  Stash& s = stashes_.get(mb.id, name_);
  const std::size_t ln2_first = ln1_.parameters().size();
  s.norm_grads = NormGradients(ctx_, norm_parameters());

  // MLP: through the row-parallel projection, the activation and the column-parallel fc.
  s.d_out_all = region.gather(grad_output);
  Tensor d_ln2_all =
      moe_ ? moe_->backward_input(mb, s.d_out_all) : mlp_.backward_input(ctx_, s.d_out_all, s.mlp);
  Tensor d_ln2 = region.reduce(d_ln2_all);
  Tensor d_res2 = ctx_.empty({B, Tl, C});
  ln2_.backward(ctx_, d_ln2, s.res2, s.ln2_saved, d_res2, s.norm_grads, ln2_first);
  k.accumulate(d_res2, grad_output);

  // Attention: through the row-parallel projection, attention, the rotary positions and the
  // column-parallel QKV.
  s.d_res2_all = region.gather(d_res2);
  Tensor d_att = ctx_.empty({B, T, Cl});
  k.matmul(s.d_res2_all.view({N, C}), false, proj_w_.value, false, d_att.view({N, Cl}));
  Tensor d_qkv = ctx_.empty({B, T, 3 * Cl});
  attention_core_backward(ctx_.attention_core(), region.to_sequence_order(d_att), s.qkv, heads,
                          s.attention, d_qkv, name_, mb.id);
  rotate_queries_and_keys(ctx_, d_qkv, true);
  Tensor d_ln1 =
      region.reduce(qkv_.backward_input(ctx_, region.to_region_order(d_qkv), s.qkv_grads));
  s.d_x = ctx_.empty({B, Tl, C});
  ln1_.backward(ctx_, d_ln1, s.x, s.ln1_saved, s.d_x, s.norm_grads, 0);
  k.accumulate(s.d_x, d_res2);

  // Keep only what the weight gradients need (inputs of the linear layers, the norm outputs as
  // this rank's shards, and the gradients of the linears' outputs), so a deferred
  // backward_weight holds as little memory as possible.
  s.x = s.qkv = s.res2 = s.out = Tensor();
  s.ln1_saved = s.ln2_saved = {};
  s.attention = {};
  return s.d_x;
}

void Block::backward_weight(const Microbatch& mb) {
  Kernels& k = *ctx_.kernels;
  TokenRegion& region = *ctx_.region;
  Stash& s = stashes_.get(mb.id, name_);
  if (moe_) {
    moe_->backward_weight(mb);
  } else {
    mlp_.backward_weight(ctx_, region.gather(s.ln2), s.d_out_all, s.mlp);
  }
  k.linear_backward(s.d_res2_all, s.att, proj_w_.value, Tensor(), proj_w_.grad, proj_b_.grad);
  qkv_.backward_weight(ctx_, region.gather(s.ln1), s.qkv_grads);
  s.norm_grads.finish(ctx_);
  stashes_.erase(mb.id);
}

}  // namespace trellis::layers
