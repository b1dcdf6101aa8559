// [optim] zero = 0: every replica holds the whole AdamW state of its parameters. Gradients are
// all-reduced over the data-context group (data x context: every replica of this rank's shard,
// rank_groups.h) bucket by bucket, each as soon as backward completes it (gradient_buckets.h).
#pragma once

#include "data_parallel/optimizer.h"

namespace trellis {

class ReplicatedAdamW final : public Optimizer {
 public:
  explicit ReplicatedAdamW(OptimizerSetup setup);

  void layer_gradients_done(int stage, int layer) override;
  void finish_gradient_reduction() override;
  double grad_norm() override;
  void scale_gradients(float factor) override;
  void step(float lr) override;
  std::int64_t steps_taken() const override { return adamw_.steps_taken(); }
  void set_steps_taken(std::int64_t steps) override {
    adamw_.set_steps_taken(static_cast<int>(steps));
  }
  std::size_t state_bytes() const override { return adamw_.state_bytes(); }
  std::vector<CheckpointPiece> pieces_to_save() override;
  std::vector<CheckpointPiece> pieces_to_load() override;

 private:
  std::vector<CheckpointPiece> pieces(bool owned_only);
  bool counted_here(const Parameter* p) const;
  // An expert parameter under expert parallelism (its replicas are the expert-data group).
  bool is_expert(const Parameter* p) const;

  OptimizerSetup setup_;
  std::vector<Parameter*> params_;
  AdamWOptimizer adamw_;
  std::unique_ptr<GradientBuckets> buckets_;  // null when the data-context group is one rank
};

}  // namespace trellis
