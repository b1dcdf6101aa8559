// The 1d family's TokenRegion: every rank of the tensor group holds whole sequences between
// regions, as Megatron's tensor parallelism without sequence parallelism.
//
//   gather (copy_to_region):      forward nothing (every rank already holds the input);
//                                 as a backward, the all-reduce of reduce below
//   reduce (reduce_from_region):  forward all-reduce (sum) of the partial outputs of the shards;
//                                 as a backward, nothing
//
// A block uses exactly one reduce after attention and one after the MLP in forward, and the two
// mirrors in backward: two all-reduces each way.
#pragma once

#include "token_region.h"

namespace trellis::tp1d {

class ReplicatedTokens final : public layers::TokenRegion {
 public:
  ReplicatedTokens(Communicator* tensor, std::int64_t seq_len)
      : tensor_(tensor), seq_len_(seq_len) {}

  std::int64_t local_seq_len() const override { return seq_len_; }
  bool norms_see_shards() const override { return false; }
  Tensor gather(const Tensor& states) override { return states; }
  Tensor reduce(const Tensor& partial) override;
  Tensor to_sequence_order(const Tensor& region) override { return region; }
  Tensor to_region_order(const Tensor& sequence) override { return sequence; }

 private:
  Communicator* tensor_;
  std::int64_t seq_len_;
};

}  // namespace trellis::tp1d
