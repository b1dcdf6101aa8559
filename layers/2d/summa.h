// SUMMA (van de Geijn and Watts 1997; Optimus, Xu et al. 2021): products of matrices split in
// q x q blocks over the grid, in q steps of broadcasts along grid rows and columns. Rank (i, j)
// holds block (i, j) of each operand; a block is 2-D, contiguous, the same shape on every rank.
//
// Three products cover a linear layer's forward and backward and the LM head's (whose weight,
// the token table, sits transposed on the grid): with A_ik the `a` of rank (i, k), B_kj the `b`
// of rank (k, j) and op() an optional transpose,
//
//   summa_broadcast_both:  out_ij  = sum_k A_ik op(B_kj)
//       step k: A_ik broadcast along row i from column k, B_kj along column j from row k,
//       a local product added to out. q row and q column broadcasts.
//   summa_reduce_rows:     out_ik  = sum_j a_ij op(B_kj)
//       step k: B_kj broadcast along column j from row k, a local product, reduced along row i
//       to column k. q column broadcasts and q row reductions.
//   summa_reduce_cols:     out_kj += sum_i (A_ik^T c_ij  or  c_ij^T A_ik)
//       step k: A_ik broadcast along row i from column k, a local product, reduced along column
//       j to row k (accumulated: it is a gradient). q row broadcasts and q column reductions.
//
// A linear y = x W^T with W [out, in] held as (out-block j, in-block i) on rank (i, j):
//   forward          y  = summa_broadcast_both(x, W, transpose)
//   input gradient   dx = summa_reduce_rows(dy, W)
//   weight gradient  dW += summa_reduce_cols(x, dy, dy^T A)
// The head, with the table E [V, C] held as (vocab block i, channel block j):
//   logits           z  = summa_reduce_rows(h, E, transpose)
//   input gradient   dh = summa_broadcast_both(dz, E)
//   table gradient   dE += summa_reduce_cols(dz, h, A^T h)
#pragma once

#include "grid_context.h"

namespace trellis::tp2d {

// `bias` (optional, [1, out columns]) is added once. out is overwritten.
void summa_broadcast_both(const GridContext& g, const Tensor& a, const Tensor& b, bool transpose_b,
                          const Tensor& out, const Tensor& bias = Tensor());

// out is overwritten.
void summa_reduce_rows(const GridContext& g, const Tensor& a, const Tensor& b, bool transpose_b,
                       const Tensor& out);

// Which side of the local product the broadcast block takes.
enum class BroadcastSide : std::uint8_t {
  left,  // A_ik^T c_ij
  right  // c_ij^T A_ik
};
// out is accumulated into.
void summa_reduce_cols(const GridContext& g, const Tensor& a, const Tensor& c, BroadcastSide side,
                       const Tensor& out);

}  // namespace trellis::tp2d
