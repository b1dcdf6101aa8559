// The seq family's TokenRegion: between regions each rank of the tensor group holds a shard of
// every sequence, tokens [r T/tp, (r+1) T/tp) on tensor rank r, so LayerNorm, the residual
// stream (and dropout, which this model does not have) cost 1/tp of the activations they cost
// under 1d. Megatron's sequence parallelism (Korthikanti et al. 2022):
//
//   gather (gather_from_sequence_parallel_region):       forward all-gather along the sequence;
//                                                        as a backward, reduce-scatter
//   reduce (reduce_scatter_to_sequence_parallel_region): forward reduce-scatter along the
//                                                        sequence; as a backward, all-gather
//
// An all-gather plus a reduce-scatter move what one all-reduce moves, so a block's forward
// communicates as much as under 1d.
//
// The all-gather concatenates the ranks' shards: region order is [tp][B][T/tp]. The linears and
// the loss work token by token and take it as it is; attention and the embedding's positions
// convert to and from the sequences' order [B][T] with B x tp block copies.
#pragma once

#include <memory>

#include "token_region.h"
#include "trellis/kernels.h"

namespace trellis::seqpar {

class SequenceShards final : public layers::TokenRegion {
 public:
  // `tensor` may be null (a group of one); seq_len must divide by its size.
  SequenceShards(Communicator* tensor, std::int64_t micro_batch, std::int64_t seq_len,
                 Kernels* kernels, std::shared_ptr<Allocator> allocator);

  std::int64_t local_seq_len() const override { return seq_len_ / tp_; }
  bool norms_see_shards() const override { return tp_ > 1; }
  Tensor gather(const Tensor& states) override;
  Tensor reduce(const Tensor& partial) override;
  Tensor to_sequence_order(const Tensor& region) override;
  Tensor to_region_order(const Tensor& sequence) override;

 private:
  // Copies t's token blocks from one order to the other.
  Tensor reorder(const Tensor& t, bool to_sequence) const;

  Communicator* tensor_;
  int tp_;
  std::int64_t micro_batch_, seq_len_;
  Kernels* kernels_;
  std::shared_ptr<Allocator> allocator_;
};

}  // namespace trellis::seqpar
