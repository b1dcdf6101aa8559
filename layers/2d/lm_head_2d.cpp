#include "lm_head_2d.h"

#include "embedding_2d.h"
#include "grid_collectives.h"
#include "summa.h"

namespace trellis::tp2d {

LmHead2d::LmHead2d(const GridContext& ctx, Parameter* shared_table)
    : ctx_(ctx), table_(shared_table) {
  if (table_ == nullptr) {
    own_table_ = make_token_table(ctx);
    table_ = &own_table_;
  }
}

std::vector<Parameter*> LmHead2d::parameters() {
  if (table_ == &own_table_) return {&own_table_};
  return {};  // the embedding reports the shared table
}

Tensor LmHead2d::forward(const Microbatch& mb, const Tensor& input) {
  const std::int64_t N = ctx_.local_tokens(), Cb = ctx_.block(ctx_.dims.hidden);
  const std::int64_t Vb = ctx_.vocab_block();
  Kernels& k = *ctx_.kernels;
  Stash local;
  Stash& s = mb.training ? stashes_.create(mb.id, "lm_head") : local;
  s.h = input.view({N, Cb});
  s.logits = ctx_.empty({N, Vb});
  summa_reduce_rows(ctx_, s.h, table_->value, true, s.logits);
  s.targets =
      mb.targets.narrow(0, ctx_.grid_row * ctx_.local_batch(), ctx_.local_batch()).view({N});

  s.max = ctx_.empty({N});
  k.xent_row_max(s.logits, vocab_begin(), ctx_.dims.vocab_size, s.max);
  all_reduce(ctx_.row, s.max, ReduceOp::max);
  s.stats = ctx_.empty({2, N});
  Tensor sumexp = s.stats.narrow(0, 0, 1).view({N});
  Tensor target_logit = s.stats.narrow(0, 1, 1).view({N});
  k.xent_row_stats(s.logits, s.targets, vocab_begin(), ctx_.dims.vocab_size, s.max, sumexp,
                   target_logit);
  all_reduce(ctx_.row, s.stats, ReduceOp::sum);

  // Every rank of row i now holds row i's token losses; the column adds up the rows.
  // Filled by the kernels: the tensor may be device memory, which host code must not write.
  Tensor loss = Tensor::empty({1}, DType::f32, ctx_.allocator);
  k.fill(loss, static_cast<float>(k.xent_loss_sum(s.max, sumexp, target_logit)));
  all_reduce(ctx_.col, loss, ReduceOp::sum);
  return loss;
}

Tensor LmHead2d::backward_input(const Microbatch& mb, const Tensor&) {
  const std::int64_t N = ctx_.local_tokens(), Cb = ctx_.block(ctx_.dims.hidden);
  Stash& s = stashes_.get(mb.id, "lm_head");
  Tensor sumexp = s.stats.narrow(0, 0, 1).view({N});
  // The logits are not needed any more: their buffer becomes the gradient of the logits.
  ctx_.kernels->xent_backward(s.logits, s.targets, vocab_begin(), ctx_.dims.vocab_size, s.max,
                              sumexp, mb.loss_scale, s.logits);
  s.d_h = ctx_.empty({ctx_.local_batch(), ctx_.seq_len(), Cb});
  summa_broadcast_both(ctx_, s.logits, table_->value, false, s.d_h.view({N, Cb}));
  return s.d_h;
}

void LmHead2d::backward_weight(const Microbatch& mb) {
  Stash& s = stashes_.get(mb.id, "lm_head");
  summa_reduce_cols(ctx_, s.logits, s.h, BroadcastSide::left, table_->grad);
  stashes_.erase(mb.id);
}

}  // namespace trellis::tp2d
