// What one layer does for one microbatch on one tensor rank, per pass (forward, input gradient,
// weight gradient): matrix-product FLOPs, bytes streamed by element-wise kernels, and the
// collectives of its tensor-parallel group. step_prediction.h turns work into time.
//
// Notation: b micro_batch, s seq_len, h hidden, a heads, V padded vocabulary, t tensor size,
// e bytes per activation value.
//
// Matrix FLOPs of a transformer block (Megatron's count, Narayanan et al. 2021 eq. 2):
//   forward          24 b s h^2 / t  +  4 b s^2 h / t      (QKV, projection, MLP; scores and
//                                                            weighted sum)
//   input gradient   24 b s h^2 / t  +  8 b s^2 h / t      (dX of the linears; attention's four
//                                                            products)
//   weight gradient  24 b s h^2 / t                        (dW of the linears)
// LM head: 2 b s h V / t in each pass. Recomputation adds to the input-gradient pass the forward
// (full) or attention's core, 4 b s^2 h / t and its softmax (selective).
//
// Element-wise traffic, in values per token (x e bytes), counted from Trellis's kernels: rep are
// the values every tensor rank streams whole (LayerNorm, residual adds: 1d keeps these
// replicated), split those divided over the tensor group (GELU, biases of column-parallel
// linears), att the attention probabilities (a s / t a token, half of them under the causal
// mask):
//   forward          rep 10 h  (2 LayerNorms x 2, 2 residual adds x 3)   split 8 h   att 1.5
//   input gradient   rep 12 h  (2 LayerNorm backwards x 3, 2 adds x 3)   split 12 h  att 1.5
//   weight gradient  rep 2 h   (row-parallel bias gradients)             split 7 h   att 0
// seq and 2d hold the replicated values as shards (rep becomes split); seq adds its reorders of
// QKV and attention outputs (8 h / t each way).
//
// Tensor-parallel collectives per block (S = e b s h, the hidden states of a microbatch):
//   1d   forward 2 all-reduce(S); input gradient 2 all-reduce(S)
//   seq  forward 2 all-gather(S) + 2 reduce-scatter(S); input gradient the same; weight gradient
//        2 all-gather(S) (the LayerNorm outputs gathered again) and an all-reduce of the 4 h
//        LayerNorm parameter gradients
//   2d   per linear (in -> out) on the q x q grid (q^2 = t), rows r = b s / q: SUMMA's q row
//        broadcasts of e r in / q and q column broadcasts of e out in / q^2 forward; q column
//        broadcasts and q row reductions (input gradient); q row broadcasts and q column
//        reductions (weight gradient); LayerNorm statistics all-reduced along the row
#pragma once

#include <cstdint>
#include <vector>

#include "plan/collective_cost.h"
#include "plan/layout_choice.h"

namespace trellis::plan {

// Which part of the tensor group a collective runs over: all of it, or (2d) a grid row or
// column.
enum class TensorGroupPart : unsigned char { whole, row, column };

struct CommCall {
  Collective op = Collective::all_reduce;
  TensorGroupPart group = TensorGroupPart::whole;
  double bytes = 0.0;  // as collective_cost.h counts them
  double count = 1.0;  // how many such calls
};

struct ActionWork {
  double flops = 0.0;  // matrix products
  double bytes = 0.0;  // element-wise traffic
  std::vector<CommCall> comm;

  ActionWork& operator+=(const ActionWork& other);
};

// A layer's three passes for one microbatch. A whole backward (B) is input + weight.
struct PassWork {
  ActionWork forward;
  ActionWork backward_input;
  ActionWork backward_weight;

  PassWork& operator+=(const PassWork& other);
  PassWork scaled(double times) const;
};

struct WorkShape {
  std::int64_t micro_batch = 1;  // b
  std::int64_t seq_len = 1;      // s
  std::int64_t hidden = 1;       // h
  std::int64_t heads = 1;        // a
  std::int64_t vocab = 1;        // V, padded
  int tensor = 1;                // t
  TensorMode mode = TensorMode::one_d;
  Recompute recompute = Recompute::none;
  double activation_bytes = 4;  // e
};

PassWork block_work(const WorkShape& shape);
// Token and position embedding (and its all-reduce / reduce-scatter).
PassWork embedding_work(const WorkShape& shape);
// Final LayerNorm, the LM head's logits and the cross-entropy.
PassWork head_work(const WorkShape& shape);
// Bytes of one pipeline message (hidden states or their gradient) from one rank.
double pipeline_message_bytes(const WorkShape& shape);

}  // namespace trellis::plan
