// The buckets of the data-parallel gradient reduction (PyTorch DDP's and Megatron-LM's buckets).
//
// This rank's parameters are grouped, stage by stage, in the order backward finishes their
// gradients (the chunk's layers from last to first), into buckets of at most [parallel]
// dp_bucket_mb (a parameter larger than that is a bucket of its own). Each bucket's gradients are
// one flat buffer and the parameters' `grad` tensors become views into it (with `pack_values`
// their values too, for the distributed optimizer), so a bucket is reduced by one collective with
// no copies.
//
// A bucket is complete when the last layer holding one of its parameters has run its last
// backward of the step: `layer_done` is told of each layer as that happens (the executor's hook)
// and starts the reduction of every bucket it completes, overlapping the layers still in
// backward. `finish` starts the buckets not started yet — all of them when nobody called
// `layer_done` ([parallel] dp_overlap = false) — and waits for every one. Buckets start in the
// same order on every rank of a data group (they run the same actions), as collectives on one
// communicator must.
//
// The backends progress by polling, so `layer_done` also tests the reductions in flight: that is
// what moves them on while the rank computes.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "trace/trace.h"
#include "trellis/comm.h"
#include "trellis/kernels.h"
#include "trellis/layer.h"

namespace trellis {

struct GradientBucketSetup {
  // Per stage on this rank: the parameters of each layer of its chunk, in forward order.
  std::map<int, std::vector<std::vector<Parameter*>>> stage_layers;
  std::size_t bucket_bytes = 0;      // the most a bucket holds; 0: one parameter per bucket
  const Parameter* alone = nullptr;  // gets a bucket of its own (the token table of a pipe end)
  std::int64_t pad_to = 1;           // each buffer's length is a multiple of this
  // Expert parallelism: expert parameters (Parameter::expert) go in buckets of their own (they
  // are reduced over the expert-data group, not the data group), each buffer a multiple of
  // expert_pad_to. false: Parameter::expert is not read (a family older than ABI 2.4).
  bool separate_experts = false;
  std::int64_t expert_pad_to = 1;
  bool pack_values = false;  // the parameters' values move into flat buffers too
  Kernels* kernels = nullptr;
  std::shared_ptr<Allocator> allocator;
  TraceRecorder* trace = nullptr;  // optional: an instant per bucket started
};

class GradientBuckets {
 public:
  // A parameter's place in its bucket: elements [begin, begin + numel).
  struct Segment {
    Parameter* param;
    std::int64_t begin;
    std::int64_t numel;
  };
  struct Bucket {
    int stage = 0;
    int ready_after_layer = 0;  // the layer (index in the chunk) whose backward completes it
    bool alone = false;         // holds the setup's `alone` parameter only
    bool expert = false;        // holds expert parameters (setup's separate_experts)
    std::vector<Segment> segments;
    Tensor grads;   // [padded] flat; the parameters' gradients are views into it
    Tensor values;  // likewise their values with pack_values, else undefined
  };
  // Starts the reduction of bucket `index` (an all_reduce or reduce_scatter of its `grads`).
  using Launch = std::function<WorkPtr(std::size_t index, Bucket& bucket)>;

  GradientBuckets(GradientBucketSetup setup, Launch launch);

  std::vector<Bucket>& buckets() noexcept { return buckets_; }
  const std::vector<Bucket>& buckets() const noexcept { return buckets_; }

  // Layer `layer` of stage `stage` has run its last backward of the step.
  void layer_done(int stage, int layer);
  // Starts what is not started yet, waits for everything; the next step starts afresh.
  void finish();

 private:
  void start(std::size_t index);

  GradientBucketSetup setup_;
  Launch launch_;
  std::vector<Bucket> buckets_;
  std::map<int, std::vector<std::size_t>> stage_buckets_;  // in the order they complete
  std::vector<WorkPtr> pending_;                           // by bucket; null: not started
  std::vector<bool> started_;
};

}  // namespace trellis
