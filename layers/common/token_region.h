// Which tokens of a microbatch the hidden states between tensor-parallel regions hold on this
// rank, and how activations enter and leave a region where the tensor group splits the channels
// (Megatron's mappings). The 1d and seq families share their layers and differ only here:
//
//                          1d (whole sequences)              seq (sequence shards)
//   states between regions [B, T, C] on every rank            [B, T/tp, C], rank r: tokens
//                                                             [r T/tp, (r+1) T/tp) of each sequence
//   gather  (enter)        nothing: copy_to_region            all-gather along the sequence
//   reduce  (leave)        all-reduce: reduce_from_region     reduce-scatter along the sequence
//
// gather and reduce are each other's backward: the gradient leaving a region through gather is
// reduced, the gradient of reduce is gathered. Inside a region every rank holds all B*T tokens
// in "region order": the order the gather produces. For seq that is rank-major
// [tp][B][T/tp] rather than [B][T], which is no matter to the token-wise linears and the loss;
// attention and the position embedding need whole sequences in order, and convert.
#pragma once

#include <cstdint>

#include "trellis/comm.h"

namespace trellis::layers {

class TokenRegion {
 public:
  virtual ~TokenRegion() = default;

  // Tokens of each sequence held between regions: T (1d) or T / tp (seq).
  virtual std::int64_t local_seq_len() const = 0;
  // True when LayerNorms (which run between regions) see a shard of the tokens only: their
  // parameter gradients are then partial sums over the tensor group.
  virtual bool norms_see_shards() const = 0;

  // states [B, local T, X] -> [B, T, X] in region order. May return `states` itself.
  virtual Tensor gather(const Tensor& states) = 0;
  // partial [B, T, X] in region order, summed over the tensor group -> [B, local T, X].
  // May reduce in place and return `partial` itself.
  virtual Tensor reduce(const Tensor& partial) = 0;

  // [B, T, ...] between region order and the sequences' own order (any dtype). May return the
  // input itself when the orders are the same.
  virtual Tensor to_sequence_order(const Tensor& region) = 0;
  virtual Tensor to_region_order(const Tensor& sequence) = 0;
};

}  // namespace trellis::layers
