#include "replicated_lm_head.h"

#include "replicated_parameter.h"

namespace replicated {

namespace {
constexpr float kEmbeddingStd = 0.02f;  // as the embedding's table: the copy starts equal
}  // namespace

ReplicatedLmHead::ReplicatedLmHead(const ReplicatedContext& ctx, trellis::Parameter* shared_table)
    : ctx_(ctx), table_(shared_table) {
  if (table_ == nullptr) {
    own_table_ = make_replicated_parameter(ctx, "wte", {ctx.dims.padded_vocab, ctx.dims.hidden},
                                           true, normal_init(kEmbeddingStd));
    table_ = &own_table_;
  }
}

std::vector<trellis::Parameter*> ReplicatedLmHead::parameters() {
  if (table_ == &own_table_) return {&own_table_};
  return {};  // the embedding reports the shared table
}

trellis::Tensor ReplicatedLmHead::forward(const trellis::Microbatch& mb,
                                          const trellis::Tensor& input) {
  const std::int64_t N = ctx_.tokens(), C = ctx_.dims.hidden, V = ctx_.dims.vocab_size;
  trellis::Kernels& k = *ctx_.kernels;
  Stash unkept;  // inference keeps nothing for backward
  Stash& s = mb.training ? stashes_.open(mb.id, name()) : unkept;
  s.hidden = input.view({N, C});
  s.targets = mb.targets.view({N});
  s.logits = ctx_.empty({N, ctx_.dims.padded_vocab});
  k.matmul(s.hidden, false, table_->value, true, s.logits);

  // The kernels compute the cross-entropy in steps made for vocabulary shards; this rank holds
  // the whole vocabulary (vocab_begin 0), so the steps simply follow each other.
  s.row_max = ctx_.empty({N});
  k.xent_row_max(s.logits, 0, V, s.row_max);
  s.sumexp = ctx_.empty({N});
  trellis::Tensor target_logit = ctx_.empty({N});
  k.xent_row_stats(s.logits, s.targets, 0, V, s.row_max, s.sumexp, target_logit);
  // Filled by the kernels: the tensor may be device memory, which host code must not write.
  trellis::Tensor loss = trellis::Tensor::empty({1}, trellis::DType::f32, ctx_.allocator);
  k.fill(loss, static_cast<float>(k.xent_loss_sum(s.row_max, s.sumexp, target_logit)));
  return loss;
}

trellis::Tensor ReplicatedLmHead::backward_input(const trellis::Microbatch& mb,
                                                 const trellis::Tensor&) {
  const std::int64_t N = ctx_.tokens(), C = ctx_.dims.hidden;
  trellis::Kernels& k = *ctx_.kernels;
  Stash& s = stashes_.at(mb.id, name());
  k.xent_backward(s.logits, s.targets, 0, ctx_.dims.vocab_size, s.row_max, s.sumexp, mb.loss_scale,
                  s.logits);
  s.grad_hidden = ctx_.empty({ctx_.micro_batch, ctx_.dims.seq_len, C});
  k.matmul(s.logits, false, table_->value, false, s.grad_hidden.view({N, C}));
  return s.grad_hidden;
}

void ReplicatedLmHead::backward_weight(const trellis::Microbatch& mb) {
  Stash& s = stashes_.at(mb.id, name());
  // d(wte) += d(logits)^T @ hidden, accumulated (beta 1) onto the embedding's own gradient.
  ctx_.kernels->matmul(s.logits, true, s.hidden, false, table_->grad, 1.0f, 1.0f);
  stashes_.close(mb.id);
}

}  // namespace replicated
