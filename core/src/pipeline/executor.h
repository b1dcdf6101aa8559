// Runs one rank's actions of a pipeline plan for one training step: forwards and backwards of the
// model chunks this rank holds, the activations and gradients sent to and received from the
// neighbouring stages' ranks.
//
// Communication is asynchronous: a SEND is posted and left to complete while the rank computes
// (the Work keeps the tensor alive); a RECV is posted where the plan puts it and waited for only
// by the compute that needs it. This is the simulator's semantics (a receive never completes
// before its send; sends never block), so a plan the simulator accepted cannot deadlock here.
// Every wait has the pipeline communicator's timeout and names the stage and microbatch.
//
// Handing over between two stages on the same rank (virtual stages of a V-shaped placement, or
// pipeline size 1) needs no communication: the output tensor is passed on directly.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "comm/flight_log.h"
#include "model/model_chunk.h"
#include "trace/trace.h"
#include "trellis/comm.h"
#include "trellis/kernels.h"
#include "trellis/pipeline_plan.h"

namespace trellis {

struct ExecutorSetup {
  const PipelinePlan* plan = nullptr;
  int pipeline_rank = 0;
  std::map<int, ModelChunk*> chunks;  // stage -> the chunk this rank runs for it
  Communicator* pipeline = nullptr;   // the pipeline group; may be null when pipeline size is 1
  Shape activation_shape;             // hidden states between stages (and their gradients)
  std::shared_ptr<Allocator> allocator;
  Kernels* kernels = nullptr;      // brings the microbatches' losses to the host, once a step
  TraceRecorder* trace = nullptr;  // optional
  // Optional: told each action as it starts, for the operations the action issues.
  FlightLog* flight = nullptr;
  // With a trace: called before a compute slice ends, so that it covers the device's work (a GPU
  // runs kernels after they are queued); empty on the CPU.
  std::function<void()> wait_for_compute;
};

class PipelineExecutor {
 public:
  explicit PipelineExecutor(ExecutorSetup setup);

  // Runs every action of this rank for one step over `microbatches` (indexed by microbatch id;
  // tokens are read by the first stage, targets by the last). Returns the sum of the token
  // losses of the microbatches whose last stage runs here (0 elsewhere).
  // `on_layer_done(stage, layer)` is called during the last backward (B or W) of each stage on
  // this rank, as each layer of its chunk (index in the chunk) finishes: its parameter
  // gradients are then final for the step — the hook for overlapping the data-parallel
  // reduction of finished gradients with the rest of backward.
  double run_step(const std::vector<Microbatch>& microbatches,
                  const std::function<void(int stage, int layer)>& on_layer_done = {});

 private:
  struct Key {
    int stage;
    int microbatch;
    friend bool operator<(const Key& a, const Key& b) {
      return a.stage != b.stage ? a.stage < b.stage : a.microbatch < b.microbatch;
    }
  };
  struct Pending {
    Tensor buffer;
    WorkPtr work;
  };

  ModelChunk& chunk(int stage) const;
  int tag(int lower_stage, int microbatch, bool backward) const;
  Tensor take_received(std::map<Key, Pending>& pending, const Key& key, const char* what);

  ExecutorSetup s_;
  int last_stage_;
  std::map<int, int> remaining_backwards_;  // per stage on this rank, within the current step
};

}  // namespace trellis
