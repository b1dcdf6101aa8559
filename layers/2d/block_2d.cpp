#include "block_2d.h"

#include <cmath>

namespace trellis::tp2d {

namespace {

std::string layer_name(int index) {
  return "h." + std::to_string(index);
}

}  // namespace

Block2d::Block2d(const GridContext& ctx, int index) : ctx_(ctx), name_(layer_name(index)) {
  const std::int64_t C = ctx.dims.hidden;
  const float std = 0.02f;
  // GPT-2 scales the projections that write into the residual stream by 1/sqrt(2 * layers).
  const float residual_std = std / std::sqrt(2.0f * static_cast<float>(ctx.dims.layers));
  const std::string p = name_ + ".";
  ln1_ = LayerNorm2d(ctx, p + "ln1");
  qkv_ = Linear2d(ctx, p + "attn.qkv", 3, C, C, std);
  proj_ = Linear2d(ctx, p + "attn.proj", 1, C, C, residual_std);
  ln2_ = LayerNorm2d(ctx, p + "ln2");
  fc_ = Linear2d(ctx, p + "mlp.fc", 1, 4 * C, C, std);
  fcproj_ = Linear2d(ctx, p + "mlp.proj", 1, C, 4 * C, residual_std);
}

std::vector<Parameter*> Block2d::parameters() {
  std::vector<Parameter*> out;
  auto add = [&](std::vector<Parameter*> ps) { out.insert(out.end(), ps.begin(), ps.end()); };
  add(ln1_.parameters());
  add(qkv_.parameters());
  add(proj_.parameters());
  add(ln2_.parameters());
  add(fc_.parameters());
  add(fcproj_.parameters());
  return out;
}

Tensor Block2d::forward(const Microbatch& mb, const Tensor& input) {
  const std::int64_t Bl = ctx_.local_batch(), T = ctx_.seq_len(), N = ctx_.local_tokens();
  const std::int64_t Cb = ctx_.block(ctx_.dims.hidden), Hb = ctx_.block(4 * ctx_.dims.hidden);
  const int heads = static_cast<int>(ctx_.block(ctx_.dims.heads));
  Kernels& k = *ctx_.kernels;

  Stash local;
  Stash& s = mb.training ? stashes_.create(mb.id, name_) : local;
  s.x = input.view({N, Cb});
  s.ln1 = ctx_.empty({N, Cb});
  s.ln1_saved = ln1_.forward(ctx_, s.x, s.ln1);
  s.qkv = ctx_.empty({Bl, T, 3 * Cb});
  qkv_.forward(ctx_, s.ln1, s.qkv.view({N, 3 * Cb}));
  s.att = ctx_.empty({Bl, T, Cb});
  s.attention =
      layers::attention_core_forward(ctx_.attention_core(), s.qkv, heads, s.att, mb.training);
  s.res2 = ctx_.empty({N, Cb});
  proj_.forward(ctx_, s.att.view({N, Cb}), s.res2);
  k.add(s.res2, s.x, s.res2);

  s.ln2 = ctx_.empty({N, Cb});
  s.ln2_saved = ln2_.forward(ctx_, s.res2, s.ln2);
  s.fc = ctx_.empty({N, Hb});
  fc_.forward(ctx_, s.ln2, s.fc);
  s.gelu = ctx_.empty({N, Hb});
  k.gelu_forward(s.fc, s.gelu);
  s.out = ctx_.empty({N, Cb});
  fcproj_.forward(ctx_, s.gelu, s.out);
  k.add(s.out, s.res2, s.out);
  return s.out.view({Bl, T, Cb});
}

Tensor Block2d::backward_input(const Microbatch& mb, const Tensor& grad_output) {
  const std::int64_t Bl = ctx_.local_batch(), T = ctx_.seq_len(), N = ctx_.local_tokens();
  const std::int64_t Cb = ctx_.block(ctx_.dims.hidden), Hb = ctx_.block(4 * ctx_.dims.hidden);
  const int heads = static_cast<int>(ctx_.block(ctx_.dims.heads));
  Kernels& k = *ctx_.kernels;
  Stash& s = stashes_.get(mb.id, name_);
  s.d_out = grad_output.view({N, Cb});
  s.norm_grads = ctx_.zeros({4, Cb});

  // MLP. d(gelu) is computed into d_fc's buffer and turned into d(fc) in place.
  s.d_fc = ctx_.empty({N, Hb});
  fcproj_.backward_input(ctx_, s.d_out, s.d_fc);
  k.gelu_backward(s.fc, s.d_fc, s.d_fc);
  Tensor d_ln2 = ctx_.empty({N, Cb});
  fc_.backward_input(ctx_, s.d_fc, d_ln2);
  s.d_res2 = ctx_.empty({N, Cb});
  ln2_.backward(ctx_, s.ln2_saved, d_ln2, s.res2, s.d_res2, s.norm_grads.narrow(0, 2, 2));
  k.accumulate(s.d_res2, s.d_out);

  // Attention.
  Tensor d_att = ctx_.empty({Bl, T, Cb});
  proj_.backward_input(ctx_, s.d_res2, d_att.view({N, Cb}));
  Tensor d_qkv = ctx_.empty({Bl, T, 3 * Cb});
  layers::attention_core_backward(ctx_.attention_core(), d_att, s.qkv, heads, s.attention, d_qkv,
                                  name_, mb.id);
  s.d_qkv = d_qkv.view({N, 3 * Cb});
  Tensor d_ln1 = ctx_.empty({N, Cb});
  qkv_.backward_input(ctx_, s.d_qkv, d_ln1);
  s.d_x = ctx_.empty({N, Cb});
  ln1_.backward(ctx_, s.ln1_saved, d_ln1, s.x, s.d_x, s.norm_grads.narrow(0, 0, 2));
  k.accumulate(s.d_x, s.d_res2);

  // Keep what the weight gradients need: the linears' inputs and their output gradients.
  s.x = s.qkv = s.res2 = s.fc = s.out = Tensor();
  s.attention = {};
  s.ln1_saved = s.ln2_saved = LayerNorm2d::Saved();
  return s.d_x.view({Bl, T, Cb});
}

void Block2d::backward_weight(const Microbatch& mb) {
  const std::int64_t N = ctx_.local_tokens(), Cb = ctx_.block(ctx_.dims.hidden);
  Stash& s = stashes_.get(mb.id, name_);
  fcproj_.backward_weight(ctx_, s.gelu, s.d_out);
  fc_.backward_weight(ctx_, s.ln2, s.d_fc);
  proj_.backward_weight(ctx_, s.att.view({N, Cb}), s.d_res2);
  qkv_.backward_weight(ctx_, s.ln1, s.d_qkv);
  ln1_.reduce_gradients(ctx_, s.norm_grads.narrow(0, 0, 2));
  ln2_.reduce_gradients(ctx_, s.norm_grads.narrow(0, 2, 2));
  stashes_.erase(mb.id);
}

}  // namespace trellis::tp2d
