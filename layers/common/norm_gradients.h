// Where the LayerNorm parameter gradients of one microbatch accumulate.
//
// When the norms see all tokens (1d), straight into the parameters' gradients: every rank gets
// the same values. When they see a sequence shard (seq), each rank's gradient is a partial sum
// over its tokens: they go into a buffer of this microbatch that is summed over the tensor group
// and then added to the parameters (Megatron's all-reduce of sequence-parallel parameters).
// It is done per microbatch, not once per step, because no layer sees the step end, and summing
// the parameters' gradients themselves would count earlier microbatches again.
#pragma once

#include <vector>

#include "family_context.h"

namespace trellis::layers {

class NormGradients {
 public:
  NormGradients() = default;
  // `params`: the norms' weights and biases, each of C values.
  NormGradients(const FamilyContext& ctx, std::vector<Parameter*> params);

  // Where the gradient of params[i] goes.
  const Tensor& grad(std::size_t i) const { return targets_[i]; }
  // Completes the gradients: for shards, the all-reduce and the addition to the parameters.
  void finish(const FamilyContext& ctx);

 private:
  std::vector<Parameter*> params_;
  std::vector<Tensor> targets_;
  Tensor partial_;  // [params, C] when the norms see shards; undefined otherwise
};

}  // namespace trellis::layers
