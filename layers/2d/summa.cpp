#include "summa.h"

#include "grid_collectives.h"

namespace trellis::tp2d {

namespace {

// This rank's block when it is the step's root, else a buffer to receive the root's into.
Tensor step_block(const Tensor& mine, bool root, const GridContext& g) {
  return root ? mine : g.empty(mine.shape());
}

}  // namespace

void summa_broadcast_both(const GridContext& g, const Tensor& a, const Tensor& b, bool transpose_b,
                          const Tensor& out, const Tensor& bias) {
  Kernels& k = *g.kernels;
  for (int step = 0; step < g.q; ++step) {
    Tensor a_k = step_block(a, g.grid_col == step, g);
    Tensor b_k = step_block(b, g.grid_row == step, g);
    // Both started before either is waited for: the row and the column move at the same time.
    WorkPtr along_row = start_broadcast(g.row, a_k, step);
    WorkPtr along_col = start_broadcast(g.col, b_k, step);
    wait(along_row);
    wait(along_col);
    k.matmul(a_k, false, b_k, transpose_b, out, 1.0f, step == 0 ? 0.0f : 1.0f);
  }
  if (bias.defined()) {
    // out += ones [rows, 1] x bias [1, columns]: one exact addition per element.
    k.matmul(g.ones.narrow(0, 0, out.size(0)).view({out.size(0), 1}), false, bias, false, out, 1.0f,
             1.0f);
  }
}

void summa_reduce_rows(const GridContext& g, const Tensor& a, const Tensor& b, bool transpose_b,
                       const Tensor& out) {
  Kernels& k = *g.kernels;
  Tensor partial = g.empty(out.shape());
  for (int step = 0; step < g.q; ++step) {
    Tensor b_k = step_block(b, g.grid_row == step, g);
    broadcast(g.col, b_k, step);
    k.matmul(a, false, b_k, transpose_b, partial);
    reduce_sum(g.row, k, partial, out, step);
  }
}

void summa_reduce_cols(const GridContext& g, const Tensor& a, const Tensor& c, BroadcastSide side,
                       const Tensor& out) {
  Kernels& k = *g.kernels;
  Tensor partial = g.empty(out.shape());
  Tensor total = g.empty(out.shape());
  for (int step = 0; step < g.q; ++step) {
    Tensor a_k = step_block(a, g.grid_col == step, g);
    broadcast(g.row, a_k, step);
    if (side == BroadcastSide::left) {
      k.matmul(a_k, true, c, false, partial);
    } else {
      k.matmul(c, true, a_k, false, partial);
    }
    reduce_sum(g.col, k, partial, total, step);
    if (g.grid_row == step) k.accumulate(out, total);
  }
}

}  // namespace trellis::tp2d
