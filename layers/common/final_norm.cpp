#include "final_norm.h"

namespace trellis::layers {

FinalNorm::FinalNorm(const FamilyContext& ctx) : ctx_(ctx) {
  const std::int64_t C = ctx.dims.hidden;
  w_ = make_parameter("lnf.weight", {C}, replicated({C}, ctx.tensor_size), false, ones(),
                      ctx.allocator);
  b_ = make_parameter("lnf.bias", {C}, replicated({C}, ctx.tensor_size), false, zeros(),
                      ctx.allocator);
}

Tensor FinalNorm::forward(const Microbatch& mb, const Tensor& input) {
  const std::int64_t B = ctx_.micro_batch, Tl = ctx_.local_seq_len(), C = ctx_.dims.hidden;
  Stash local;
  Stash& s = mb.training ? stashes_.create(mb.id, "lnf") : local;
  s.x = input;
  s.mean = ctx_.empty({B * Tl});
  s.rstd = ctx_.empty({B * Tl});
  s.out = ctx_.empty({B, Tl, C});
  ctx_.kernels->layernorm_forward(s.x, w_.value, b_.value, s.out, s.mean, s.rstd);
  return s.out;
}

Tensor FinalNorm::backward_input(const Microbatch& mb, const Tensor& grad_output) {
  const std::int64_t B = ctx_.micro_batch, Tl = ctx_.local_seq_len(), C = ctx_.dims.hidden;
  Stash& s = stashes_.get(mb.id, "lnf");
  s.norm_grads = NormGradients(ctx_, {&w_, &b_});
  s.d_x = ctx_.empty({B, Tl, C});
  // LayerNorm's weight gradients are cheap and come out of the same pass as the input gradient.
  ctx_.kernels->layernorm_backward(grad_output, s.x, w_.value, s.mean, s.rstd, s.d_x,
                                   s.norm_grads.grad(0), s.norm_grads.grad(1));
  s.x = s.mean = s.rstd = s.out = Tensor();
  return s.d_x;
}

void FinalNorm::backward_weight(const Microbatch& mb) {
  stashes_.get(mb.id, "lnf").norm_grads.finish(ctx_);
  stashes_.erase(mb.id);
}

}  // namespace trellis::layers
