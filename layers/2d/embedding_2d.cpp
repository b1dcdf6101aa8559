#include "embedding_2d.h"

#include "context_parts.h"
#include "grid_collectives.h"
#include "parameters.h"

namespace trellis::tp2d {

Parameter make_token_table(const GridContext& ctx) {
  const std::int64_t C = ctx.dims.hidden, Vp = ctx.dims.padded_vocab;
  const std::int64_t rows = ctx.vocab_block(), cols = ctx.block(C);
  return layers::make_parameter("wte", {rows, cols},
                                {{Vp, C}, {ctx.grid_row * rows, ctx.grid_col * cols}, 1}, true,
                                layers::normal(0.02f), ctx.allocator);
}

Embedding2d::Embedding2d(const GridContext& ctx) : ctx_(ctx) {
  const std::int64_t C = ctx.dims.hidden, maxT = ctx.dims.max_seq_len;
  wte_ = make_token_table(ctx);
  const std::int64_t rows = ctx.block(maxT), cols = ctx.block(C);
  wpe_ = layers::make_parameter("wpe", {rows, cols},
                                {{maxT, C}, {ctx.grid_row * rows, ctx.grid_col * cols}, 1}, true,
                                layers::normal(0.02f), ctx.allocator);
}

Tensor Embedding2d::forward(const Microbatch& mb, const Tensor& tokens) {
  const std::int64_t B = ctx_.micro_batch, T = ctx_.seq_len(), Cb = ctx_.block(ctx_.dims.hidden);
  const std::int64_t max_T = ctx_.dims.max_seq_len;
  Kernels& k = *ctx_.kernels;
  Tensor positions = ctx_.empty({max_T, Cb});
  all_gather(ctx_.col, k, wpe_.value, positions);
  Tensor partial = ctx_.empty({B, T, Cb});
  // Each token gets the position row of where it sits in its sequence.
  layers::for_each_position_run(
      ctx_.chunks, B, tokens, partial,
      [&](const Tensor& t, const Tensor& rows, std::int64_t first) {
        k.embedding_forward(
            t, wte_.value, ctx_.grid_row * ctx_.vocab_block(),
            ctx_.grid_row == 0 ? positions.narrow(0, first, max_T - first) : Tensor(), rows);
      });
  Tensor out = ctx_.empty({ctx_.local_batch(), T, Cb});
  reduce_scatter_sum(ctx_.col, k, partial, out);
  if (mb.training) stashes_.create(mb.id, "embedding").tokens = tokens;
  return out;
}

Tensor Embedding2d::backward_input(const Microbatch& mb, const Tensor& grad_output) {
  stashes_.get(mb.id, "embedding").d_out = grad_output;
  return Tensor();  // tokens have no gradient
}

void Embedding2d::backward_weight(const Microbatch& mb) {
  const std::int64_t B = ctx_.micro_batch, T = ctx_.seq_len(), Cb = ctx_.block(ctx_.dims.hidden);
  const std::int64_t max_T = ctx_.dims.max_seq_len;
  Kernels& k = *ctx_.kernels;
  Stash& s = stashes_.get(mb.id, "embedding");
  Tensor d_all = ctx_.empty({B, T, Cb});
  all_gather(ctx_.col, k, s.d_out, d_all);
  Tensor d_positions = ctx_.zeros({max_T, Cb});
  layers::for_each_position_run(ctx_.chunks, B, s.tokens, d_all,
                                [&](const Tensor& t, const Tensor& rows, std::int64_t first) {
                                  k.embedding_backward(t, rows, ctx_.grid_row * ctx_.vocab_block(),
                                                       wte_.grad,
                                                       d_positions.narrow(0, first, max_T - first));
                                });
  const std::int64_t rows = ctx_.block(ctx_.dims.max_seq_len);
  k.accumulate(wpe_.grad, d_positions.narrow(0, ctx_.grid_row * rows, rows));
  stashes_.erase(mb.id);
}

}  // namespace trellis::tp2d
