#include "embedding.h"

#include "context_parts.h"

namespace trellis::layers {

Embedding::Embedding(const FamilyContext& ctx) : ctx_(ctx) {
  const std::int64_t C = ctx.dims.hidden, Vp = ctx.dims.padded_vocab, rows = ctx.vocab_rows();
  wte_ = make_parameter("wte", {rows, C}, {{Vp, C}, {ctx.vocab_begin(), 0}, 1}, true, normal(0.02f),
                        ctx.allocator);
  // Rotary positions turn queries and keys inside attention: no table of positions then.
  if (ctx.arch.positions == ModelArchitecture::Positions::learned) {
    wpe_ = make_parameter("wpe", {ctx.dims.max_seq_len, C},
                          replicated({ctx.dims.max_seq_len, C}, ctx.tensor_size), true,
                          normal(0.02f), ctx.allocator);
  }
}

Tensor Embedding::forward(const Microbatch& mb, const Tensor& tokens) {
  const std::int64_t B = ctx_.micro_batch, T = ctx_.seq_len(), C = ctx_.dims.hidden;
  TokenRegion& region = *ctx_.region;
  Tensor partial = ctx_.empty({B, T, C});
  const bool adds_positions = ctx_.tensor_rank == 0 && wpe_.value.defined();
  // Each token gets the position row of where it sits in its sequence.
  const std::int64_t max_T = ctx_.dims.max_seq_len;
  for_each_position_run(
      ctx_.chunks, B, tokens, partial,
      [&](const Tensor& t, const Tensor& rows, std::int64_t first) {
        ctx_.kernels->embedding_forward(
            t, wte_.value, ctx_.vocab_begin(),
            adds_positions ? wpe_.value.narrow(0, first, max_T - first) : Tensor(), rows);
      });
  Tensor out = region.reduce(region.to_region_order(partial));
  if (mb.training) stashes_.create(mb.id, "embedding").tokens = tokens;
  return out;
}

Tensor Embedding::backward_input(const Microbatch& mb, const Tensor& grad_output) {
  stashes_.get(mb.id, "embedding").d_out = grad_output;
  return Tensor();  // tokens have no gradient
}

void Embedding::backward_weight(const Microbatch& mb) {
  Stash& s = stashes_.get(mb.id, "embedding");
  TokenRegion& region = *ctx_.region;
  // Every rank gathers the whole output gradient, so the replicated position table's gradient
  // comes out the same everywhere.
  Tensor d_out = region.to_sequence_order(region.gather(s.d_out));
  const std::int64_t max_T = ctx_.dims.max_seq_len;
  for_each_position_run(
      ctx_.chunks, ctx_.micro_batch, s.tokens, d_out,
      [&](const Tensor& t, const Tensor& rows, std::int64_t first) {
        ctx_.kernels->embedding_backward(
            t, rows, ctx_.vocab_begin(), wte_.grad,
            wpe_.grad.defined() ? wpe_.grad.narrow(0, first, max_T - first) : Tensor());
      });
  stashes_.erase(mb.id);
}

}  // namespace trellis::layers
