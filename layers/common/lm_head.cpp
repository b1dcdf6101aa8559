#include "lm_head.h"

#include "collectives.h"

namespace trellis::layers {

LmHead::LmHead(const FamilyContext& ctx, Parameter* shared_table)
    : ctx_(ctx), table_(shared_table) {
  if (table_ == nullptr) {
    const std::int64_t C = ctx.dims.hidden, Vp = ctx.dims.padded_vocab;
    // Tied: a copy of the token table under its name. Untied: the head's own weight.
    const char* name = ctx.arch.tie_embeddings ? "wte" : "lm_head.weight";
    own_table_ = make_parameter(name, {ctx.vocab_rows(), C}, {{Vp, C}, {ctx.vocab_begin(), 0}, 1},
                                true, normal(0.02f), ctx.allocator);
    table_ = &own_table_;
  }
}

std::vector<Parameter*> LmHead::parameters() {
  if (table_ == &own_table_) return {&own_table_};
  return {};  // the embedding reports the shared table
}

Tensor LmHead::forward(const Microbatch& mb, const Tensor& input) {
  const std::int64_t N = ctx_.tokens(), C = ctx_.dims.hidden, Vl = ctx_.vocab_rows();
  Kernels& k = *ctx_.kernels;
  TokenRegion& region = *ctx_.region;
  Stash local;
  Stash& s = mb.training ? stashes_.create(mb.id, "lm_head") : local;
  s.h = input;
  s.logits = ctx_.empty({N, Vl});
  k.matmul(region.gather(s.h).view({N, C}), false, table_->value, true, s.logits);
  // The loss is a sum over tokens: the targets only need to be in the logits' order.
  s.targets = region.to_region_order(mb.targets).view({N});

  s.max = ctx_.empty({N});
  k.xent_row_max(s.logits, ctx_.vocab_begin(), ctx_.dims.vocab_size, s.max);
  if (ctx_.tensor_size > 1) ctx_.tensor->all_reduce(s.max, s.max, ReduceOp::max)->wait();
  s.stats = ctx_.empty({2, N});
  Tensor sumexp = s.stats.narrow(0, 0, 1).view({N});
  Tensor target_logit = s.stats.narrow(0, 1, 1).view({N});
  k.xent_row_stats(s.logits, s.targets, ctx_.vocab_begin(), ctx_.dims.vocab_size, s.max, sumexp,
                   target_logit);
  all_reduce_sum(ctx_.tensor, s.stats);

  // Filled by the kernels: the tensor may be device memory, which host code must not write.
  Tensor loss = Tensor::empty({1}, DType::f32, ctx_.allocator);
  k.fill(loss, static_cast<float>(k.xent_loss_sum(s.max, sumexp, target_logit)));
  return loss;
}

Tensor LmHead::backward_input(const Microbatch& mb, const Tensor&) {
  const std::int64_t N = ctx_.tokens(), C = ctx_.dims.hidden;
  Kernels& k = *ctx_.kernels;
  Stash& s = stashes_.get(mb.id, "lm_head");
  Tensor sumexp = s.stats.narrow(0, 0, 1).view({N});
  // The logits are not needed any more: their buffer becomes the gradient of the logits.
  k.xent_backward(s.logits, s.targets, ctx_.vocab_begin(), ctx_.dims.vocab_size, s.max, sumexp,
                  mb.loss_scale, s.logits);
  Tensor d_h_all = ctx_.empty({ctx_.micro_batch, ctx_.seq_len(), C});
  k.matmul(s.logits, false, table_->value, false, d_h_all.view({N, C}));
  s.d_h = ctx_.region->reduce(d_h_all);
  return s.d_h;
}

void LmHead::backward_weight(const Microbatch& mb) {
  const std::int64_t N = ctx_.tokens(), C = ctx_.dims.hidden;
  Stash& s = stashes_.get(mb.id, "lm_head");
  ctx_.kernels->matmul(s.logits, true, ctx_.region->gather(s.h).view({N, C}), false, table_->grad,
                       1.0f, 1.0f);
  stashes_.erase(mb.id);
}

}  // namespace trellis::layers
