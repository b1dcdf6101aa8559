#include "sequence_shards.h"

#include "trellis/error.h"

namespace trellis::seqpar {

SequenceShards::SequenceShards(Communicator* tensor, std::int64_t micro_batch, std::int64_t seq_len,
                               Kernels* kernels, std::shared_ptr<Allocator> allocator)
    : tensor_(tensor),
      tp_(tensor ? tensor->size() : 1),
      micro_batch_(micro_batch),
      seq_len_(seq_len),
      kernels_(kernels),
      allocator_(std::move(allocator)) {
  if (seq_len_ % tp_ != 0) {
    throw Error("layers seq: seq_len " + std::to_string(seq_len_) +
                " does not split over the tensor group of " + std::to_string(tp_));
  }
}

Tensor SequenceShards::gather(const Tensor& states) {
  if (tp_ == 1) return states;
  // [B, T/tp, X] -> [tp][B][T/tp][X], viewed as [B, T, X].
  Shape shape = states.shape();
  shape[1] = seq_len_;
  Tensor all = Tensor::empty(shape, states.dtype(), allocator_);
  tensor_->all_gather(states, all)->wait();
  return all;
}

Tensor SequenceShards::reduce(const Tensor& partial) {
  if (tp_ == 1) return partial;
  // Chunk r of the region order is rank r's shard: [B, T/tp, X] of each sequence.
  Shape shape = partial.shape();
  shape[1] = seq_len_ / tp_;
  Tensor shard = Tensor::empty(shape, partial.dtype(), allocator_);
  tensor_->reduce_scatter(partial, shard, ReduceOp::sum)->wait();
  return shard;
}

Tensor SequenceShards::to_sequence_order(const Tensor& region) {
  return tp_ == 1 ? region : reorder(region, true);
}

Tensor SequenceShards::to_region_order(const Tensor& sequence) {
  return tp_ == 1 ? sequence : reorder(sequence, false);
}

Tensor SequenceShards::reorder(const Tensor& t, bool to_sequence) const {
  const std::int64_t B = micro_batch_, T = seq_len_, Ts = T / tp_;
  const std::int64_t width = t.numel() / (B * T);  // X: values per token
  const std::int64_t block = Ts * width;           // one shard of one sequence
  Tensor out = Tensor::empty(t.shape(), t.dtype(), allocator_);
  Tensor from = t.view({t.numel()});
  Tensor to = out.view({out.numel()});
  for (std::int64_t r = 0; r < tp_; ++r) {
    for (std::int64_t b = 0; b < B; ++b) {
      const std::int64_t in_sequence = (b * tp_ + r) * block;  // [B][tp][Ts] = [B][T]
      const std::int64_t in_region = (r * B + b) * block;      // [tp][B][Ts]
      const std::int64_t src = to_sequence ? in_region : in_sequence;
      const std::int64_t dst = to_sequence ? in_sequence : in_region;
      kernels_->copy(from.narrow(0, src, block), to.narrow(0, dst, block));
    }
  }
  return out;
}

}  // namespace trellis::seqpar
