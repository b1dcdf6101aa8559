#include "final_norm_2d.h"

namespace trellis::tp2d {

FinalNorm2d::FinalNorm2d(const GridContext& ctx) : ctx_(ctx), norm_(ctx, "lnf") {}

Tensor FinalNorm2d::forward(const Microbatch& mb, const Tensor& input) {
  const std::int64_t N = ctx_.local_tokens(), Cb = ctx_.block(ctx_.dims.hidden);
  Stash local;
  Stash& s = mb.training ? stashes_.create(mb.id, "lnf") : local;
  s.x = input.view({N, Cb});
  s.out = ctx_.empty({N, Cb});
  s.saved = norm_.forward(ctx_, s.x, s.out);
  return s.out.view(input.shape());
}

Tensor FinalNorm2d::backward_input(const Microbatch& mb, const Tensor& grad_output) {
  const std::int64_t N = ctx_.local_tokens(), Cb = ctx_.block(ctx_.dims.hidden);
  Stash& s = stashes_.get(mb.id, "lnf");
  s.grads = ctx_.zeros({2, Cb});
  s.d_x = ctx_.empty({N, Cb});
  norm_.backward(ctx_, s.saved, grad_output.view({N, Cb}), s.x, s.d_x, s.grads);
  s.x = s.out = Tensor();
  s.saved = LayerNorm2d::Saved();
  return s.d_x.view(grad_output.shape());
}

void FinalNorm2d::backward_weight(const Microbatch& mb) {
  Stash& s = stashes_.get(mb.id, "lnf");
  norm_.reduce_gradients(ctx_, s.grads);
  stashes_.erase(mb.id);
}

}  // namespace trellis::tp2d
