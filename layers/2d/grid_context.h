// What every layer of the 2d family needs to know: the model's sizes, this rank's place in the
// q x q tensor grid and its row and column groups, its context chunks and attention, the kernels
// and the allocator.
//
// The layout (Optimus / Colossal-AI 2D, with the batch split as Colossal-AI splits it):
//   hidden states [B, T, C] -> rank (i, j) holds sequences [i B/q, (i+1) B/q), channels
//                              [j C/q, (j+1) C/q): [B/q, T, C/q] (under context parallelism
//                              T is the T/context tokens of its context chunks)
//   a weight [out, in]      -> rank (i, j) holds out-block j, in-block i: [out/q, in/q], so a
//                              linear's output has the input's layout (SUMMA)
//   a vector [out] (biases, LayerNorms) -> the out-block j, cut again by grid row: rank (i, j)
//                              holds [out/q^2]; the column gathers it when it is used
// Every parameter and every activation on a rank is 1/q^2 of the whole, except the per-token
// LayerNorm statistics ([B/q * T]) and, for a moment in the embedding, the tokens' embeddings of
// the whole column ([B, T, C/q]).
#pragma once

#include <memory>

#include "attention_core.h"
#include "trellis/context_attention.h"
#include "trellis/layer.h"

namespace trellis::tp2d {

struct GridContext {
  ModelDims dims;
  std::int64_t micro_batch = 1;  // B
  Communicator* tensor = nullptr;
  Communicator* row = nullptr;  // ranks (i, 0..q-1), ordered by column; null when q = 1
  Communicator* col = nullptr;  // ranks (0..q-1, j), ordered by row; null when q = 1
  int q = 1;
  int grid_row = 0;  // i
  int grid_col = 0;  // j
  Kernels* kernels = nullptr;
  std::shared_ptr<Allocator> allocator;
  Tensor ones;  // [local tokens] of 1: the row sums and bias additions as products
  // The tokens of each sequence on this rank's context rank ({T, 1, 0} without context
  // parallelism), and the attention across the context group (null without).
  ContextChunks chunks;
  std::shared_ptr<ContextAttention> attention;
  layers::AttentionRecompute recompute;  // selective recomputation

  std::int64_t local_batch() const { return micro_batch / q; }             // B/q
  std::int64_t seq_len() const { return chunks.local_len(); }              // T/context
  std::int64_t local_tokens() const { return local_batch() * seq_len(); }  // B/q * T/context
  std::int64_t block(std::int64_t n) const { return n / q; }               // n/q
  std::int64_t vocab_block() const { return dims.padded_vocab / q; }

  Tensor empty(const Shape& shape) const { return Tensor::empty(shape, DType::f32, allocator); }
  layers::AttentionCoreSetup attention_core() const {
    return {kernels, attention.get(), allocator, recompute};
  }
  Tensor zeros(const Shape& shape) const {
    Tensor t = empty(shape);
    kernels->fill(t, 0.0f);
    return t;
  }
};

}  // namespace trellis::tp2d
