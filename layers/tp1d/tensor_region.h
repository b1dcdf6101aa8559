// The communication of 1d tensor parallelism, as Megatron names it: each pattern is a pair of a
// forward operation and its backward mirror, applied to activations entering or leaving a
// region where the tensor group works on shards.
//
//   copy_to_region:     forward: nothing (every rank already holds the input)
//                       backward: all-reduce (sum) the input gradients of the shards
//   reduce_from_region: forward: all-reduce (sum) the partial outputs of the shards
//                       backward: nothing (the gradient is already on every rank)
//
// A block uses exactly one reduce_from_region after attention and one after the MLP in forward,
// and the two copy_to_region mirrors in backward: two all-reduces each way.
#pragma once

#include "trellis/comm.h"

namespace trellis::tp1d {

// The all-reduce of both patterns; nothing when the group has one rank.
void all_reduce_sum(Communicator* group, const Tensor& t);

inline void reduce_from_region_forward(Communicator* group, const Tensor& partial) {
  all_reduce_sum(group, partial);
}
inline void copy_to_region_backward(Communicator* group, const Tensor& grad_partial) {
  all_reduce_sum(group, grad_partial);
}

}  // namespace trellis::tp1d
