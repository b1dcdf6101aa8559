#include "final_norm.h"

namespace trellis::layers {

FinalNorm::FinalNorm(const FamilyContext& ctx) : ctx_(ctx), norm_(ctx, "lnf") {}

Tensor FinalNorm::forward(const Microbatch& mb, const Tensor& input) {
  Stash local;
  Stash& s = mb.training ? stashes_.create(mb.id, "lnf") : local;
  s.x = input;
  s.out = norm_.forward(ctx_, s.x, s.saved);
  return s.out;
}

Tensor FinalNorm::backward_input(const Microbatch& mb, const Tensor& grad_output) {
  const std::int64_t B = ctx_.micro_batch, Tl = ctx_.local_seq_len(), C = ctx_.dims.hidden;
  Stash& s = stashes_.get(mb.id, "lnf");
  s.norm_grads = NormGradients(ctx_, norm_.parameters());
  s.d_x = ctx_.empty({B, Tl, C});
  // The norm's weight gradients are cheap and come out of the same pass as the input gradient.
  norm_.backward(ctx_, grad_output, s.x, s.saved, s.d_x, s.norm_grads, 0);
  s.x = s.out = Tensor();
  s.saved = {};
  return s.d_x;
}

void FinalNorm::backward_weight(const Microbatch& mb) {
  stashes_.get(mb.id, "lnf").norm_grads.finish(ctx_);
  stashes_.erase(mb.id);
}

}  // namespace trellis::layers
