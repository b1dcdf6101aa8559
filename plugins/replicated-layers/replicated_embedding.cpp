#include "replicated_embedding.h"

#include "replicated_parameter.h"

namespace replicated {

namespace {
constexpr float kEmbeddingStd = 0.02f;  // GPT-2's initialisation of both tables
}  // namespace

ReplicatedEmbedding::ReplicatedEmbedding(const ReplicatedContext& ctx) : ctx_(ctx) {
  const std::int64_t C = ctx.dims.hidden;
  token_table_ = make_replicated_parameter(ctx, "wte", {ctx.dims.padded_vocab, C}, true,
                                           normal_init(kEmbeddingStd));
  positions_ = make_replicated_parameter(ctx, "wpe", {ctx.dims.max_seq_len, C}, true,
                                         normal_init(kEmbeddingStd));
}

trellis::Tensor ReplicatedEmbedding::forward(const trellis::Microbatch& mb,
                                             const trellis::Tensor& tokens) {
  trellis::Tensor out = ctx_.empty({ctx_.micro_batch, ctx_.dims.seq_len, ctx_.dims.hidden});
  // vocab_begin 0: this rank's table starts at token 0 and holds every row.
  ctx_.kernels->embedding_forward(tokens, token_table_.value, 0, positions_.value, out);
  if (mb.training) stashes_.open(mb.id, name()).tokens = tokens;
  return out;
}

trellis::Tensor ReplicatedEmbedding::backward_input(const trellis::Microbatch& mb,
                                                    const trellis::Tensor& grad_output) {
  stashes_.at(mb.id, name()).grad_output = grad_output;
  return trellis::Tensor();  // tokens have no gradient
}

void ReplicatedEmbedding::backward_weight(const trellis::Microbatch& mb) {
  Stash& s = stashes_.at(mb.id, name());
  ctx_.kernels->embedding_backward(s.tokens, s.grad_output, 0, token_table_.grad, positions_.grad);
  stashes_.close(mb.id);
}

}  // namespace replicated
