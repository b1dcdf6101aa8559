// The optimizer as the step loop drives it: completing the gradients over the replicas, the
// data-context group of data x context ranks (in buckets, each started as the layers holding it
// finish their backward, all finished before the update; see gradient_buckets.h), the global
// gradient norm, clipping, the AdamW update, and the pieces of parameters and optimizer state a
// checkpoint saves and loads. Two implementations, chosen by [optim] zero:
//
//  - 0, ReplicatedAdamW: gradient buckets all-reduced over the replicas; every replica holds
//    the whole AdamW state of its parameters and takes the same update.
//  - 1, DistributedAdamW: Megatron's distributed optimizer (ZeRO-1); gradient buckets
//    reduce-scattered, each replica holds and updates 1/(data x context) of the state, parameters
//    all-gathered after.
//
// Both give the same numbers up to the order of floating-point sums.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "checkpoint/checkpoint_piece.h"
#include "data_parallel/adamw_optimizer.h"
#include "data_parallel/gradient_buckets.h"
#include "trellis/parallel.h"
#include "trellis/rank_groups.h"

namespace trellis {

struct OptimizerSetup {
  // The parameters of each (virtual) stage this rank holds, by stage: those of each layer of the
  // stage's chunk, in forward order.
  std::map<int, std::vector<std::vector<Parameter*>>> stage_layers;
  // The token table when this rank holds a pipeline end of a pipeline longer than one stage
  // (its gradient is summed over the embedding group), else null.
  Parameter* tied_table = nullptr;
  // The tied table is the LM head's copy (last stage only): its values and state are the first
  // stage's, so it is counted once in the norm and saved by the first stage.
  bool tied_table_is_copy = false;
  const RankGroups* groups = nullptr;
  RankCoords coords;
  AdamWSettings settings;
  Kernels* kernels = nullptr;
  std::shared_ptr<Allocator> allocator;
  std::size_t bucket_bytes = 0;  // [parallel] dp_bucket_mb in bytes
  // Expert parallelism (groups->expert set): expert parameters (Parameter::expert) are reduced,
  // sharded (ZeRO-1) and saved over groups->expert_data, and the expert group holds different
  // ones.
  bool expert_parallel() const noexcept { return groups->expert != nullptr; }
  TraceRecorder* trace = nullptr;  // optional

  // Every parameter, stage by stage, layer by layer.
  std::vector<Parameter*> parameters() const;
  // The buckets' setup for these parameters, the tied table in a bucket of its own.
  GradientBucketSetup bucket_setup(std::int64_t pad_to, std::int64_t expert_pad_to,
                                   bool pack_values) const;
  // The group a bucket's gradients are reduced over: expert-data for an expert bucket, else
  // data-context.
  Communicator& replicas(bool expert_bucket) const;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;

  // Layer `layer` (its index in the chunk) of stage `stage` has run its last backward of the
  // step: start the reduction of the buckets it completes.
  virtual void layer_gradients_done(int stage, int layer) = 0;
  // Starts the reductions not started yet (all of them when nothing called
  // layer_gradients_done), waits for every one, then sums the tied table's gradient over the
  // embedding group.
  virtual void finish_gradient_reduction() = 0;
  // The L2 norm of the whole model's gradient (every rank gets the same value).
  virtual double grad_norm() = 0;
  virtual void scale_gradients(float factor) = 0;
  // One AdamW update with learning rate `lr`; afterwards every rank holds its updated parameters.
  virtual void step(float lr) = 0;

  virtual std::int64_t steps_taken() const = 0;
  virtual void set_steps_taken(std::int64_t steps) = 0;
  // Bytes of optimizer state (moments) this rank holds.
  virtual std::size_t state_bytes() const = 0;

  // Checkpoints. Names: the parameter's, and "adamw.m/<name>", "adamw.v/<name>" for its moments.
  // The pieces this rank writes: together, the ranks' pieces hold each value exactly once.
  virtual std::vector<CheckpointPiece> pieces_to_save() = 0;
  // The pieces this rank loads: every value it holds (parameters whole, state as held).
  virtual std::vector<CheckpointPiece> pieces_to_load() = 0;
};

std::unique_ptr<Optimizer> make_optimizer(int zero, OptimizerSetup setup);

// "adamw.m/<name>" and "adamw.v/<name>".
std::string moment_name(const char* moment, const std::string& parameter);

}  // namespace trellis
