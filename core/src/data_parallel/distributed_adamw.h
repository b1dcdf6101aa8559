// [optim] zero = 1: the distributed optimizer (Megatron-LM's, ZeRO stage 1).
//
// The parameters of each pipeline stage on this rank are packed into the data-parallel reduction's
// buckets (gradient_buckets.h): flat buffers of values and of gradients of the same layout, each
// padded to a multiple of the data-context group's size (data x context, the replicas of this
// rank's shard: rank_groups.h); the parameters' value and grad tensors become views into them, so
// the layers work on the buffers unchanged. Rank r of that group owns the r-th contiguous
// 1/(data x context) of each bucket:
//
//   backward completes a bucket -> reduce_scatter of its gradients: this rank gets the summed
//                               gradient of its range only (overlapping the layers still running)
//   norm                     -> sum of squares over the owned ranges, then one all_reduce
//   AdamW                    -> on the owned range only: m and v exist for it alone
//   after the update         -> all_gather of the owned ranges into the parameter bucket
//
// The token table of a pipeline end gets a bucket of its own: the first and last stages then
// split it identically, so its reduced gradient ranges can be summed over the embedding group.
//
// Memory per rank: parameters + gradients + 3/(data x context) of them (m, v and the reduced
// gradient range), against parameters + gradients + 2 x parameters for zero = 0.
#pragma once

#include "data_parallel/optimizer.h"

namespace trellis {

class DistributedAdamW final : public Optimizer {
 public:
  explicit DistributedAdamW(OptimizerSetup setup);

  void layer_gradients_done(int stage, int layer) override;
  void finish_gradient_reduction() override;
  double grad_norm() override;
  void scale_gradients(float factor) override;
  void step(float lr) override;
  std::int64_t steps_taken() const override { return steps_; }
  void set_steps_taken(std::int64_t steps) override { steps_ = steps; }
  std::size_t state_bytes() const override;
  std::vector<CheckpointPiece> pieces_to_save() override;
  std::vector<CheckpointPiece> pieces_to_load() override;

 private:
  using Bucket = GradientBuckets::Bucket;
  using Segment = GradientBuckets::Segment;
  // This rank's range of a bucket and what it holds for it.
  struct Shard {
    std::int64_t begin = 0;
    std::int64_t numel = 0;
    Tensor grad;  // the reduced gradient of the range; reused to send values
    Tensor m, v;  // AdamW's moments of the range
  };
  // Calls visit(segment, first, count): the elements [first, first + count) of the segment's
  // parameter (flat, within its local tensor) that fall in this rank's range.
  template <class Visit>
  void for_each_owned(const Bucket& bucket, const Shard& shard, Visit&& visit) const;
  bool owns_writes(const Bucket& bucket, const Parameter* p) const;

  OptimizerSetup setup_;
  GradientBuckets buckets_;
  std::vector<Shard> shards_;  // by bucket
  std::int64_t steps_ = 0;
};

}  // namespace trellis
