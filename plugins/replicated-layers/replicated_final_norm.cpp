#include "replicated_final_norm.h"

#include "replicated_parameter.h"

namespace replicated {

ReplicatedFinalNorm::ReplicatedFinalNorm(const ReplicatedContext& ctx) : ctx_(ctx) {
  const std::int64_t C = ctx.dims.hidden;
  weight_ = make_replicated_parameter(ctx, "lnf.weight", {C}, false, ones_init());
  bias_ = make_replicated_parameter(ctx, "lnf.bias", {C}, false, zeros_init());
}

trellis::Tensor ReplicatedFinalNorm::forward(const trellis::Microbatch& mb,
                                             const trellis::Tensor& input) {
  const std::int64_t N = ctx_.tokens();
  Stash unkept;  // inference keeps nothing for backward
  Stash& s = mb.training ? stashes_.open(mb.id, name()) : unkept;
  s.input = input;
  s.mean = ctx_.empty({N});
  s.rstd = ctx_.empty({N});
  trellis::Tensor out = ctx_.empty({ctx_.micro_batch, ctx_.dims.seq_len, ctx_.dims.hidden});
  ctx_.kernels->layernorm_forward(input, weight_.value, bias_.value, out, s.mean, s.rstd);
  return out;
}

trellis::Tensor ReplicatedFinalNorm::backward_input(const trellis::Microbatch& mb,
                                                    const trellis::Tensor& grad_output) {
  Stash& s = stashes_.at(mb.id, name());
  s.grad_input = ctx_.empty({ctx_.micro_batch, ctx_.dims.seq_len, ctx_.dims.hidden});
  // The kernel gives the weight gradients in the same pass as the input gradient, and they are
  // only 2C numbers: computing them here costs nothing a deferred backward_weight would save.
  ctx_.kernels->layernorm_backward(grad_output, s.input, weight_.value, s.mean, s.rstd,
                                   s.grad_input, weight_.grad, bias_.grad);
  s.input = s.mean = s.rstd = trellis::Tensor();
  return s.grad_input;
}

void ReplicatedFinalNorm::backward_weight(const trellis::Microbatch& mb) {
  stashes_.at(mb.id, name());  // a backward_weight without its forward is an error too
  stashes_.close(mb.id);
}

}  // namespace replicated
