// The communicators one rank trains with, made from the world by split() along the layout's
// dimensions (Megatron's process groups), and handed to whoever needs them — no global state.
#pragma once

#include <memory>
#include <string>

#include "trellis/comm.h"
#include "trellis/parallel.h"

namespace trellis {

struct RankGroups {
  std::shared_ptr<Communicator> world;
  std::unique_ptr<Communicator> tensor;  // ranks splitting each layer
  // When the tensor size is a square q*q > 1, the tensor group seen as a q x q grid (TensorGrid):
  // this rank's grid row and grid column, for 2D tensor parallelism. Null otherwise.
  std::unique_ptr<Communicator> tensor_row;
  std::unique_ptr<Communicator> tensor_col;
  std::unique_ptr<Communicator> data;            // ranks holding replicas of the same shard
  std::unique_ptr<Communicator> pipeline;        // the ranks of one pipeline, in stage order
  std::unique_ptr<Communicator> model_parallel;  // tensor x pipeline: one whole model
  // The first and last pipeline stage of one pipeline, which both hold the token table (tied to
  // the LM head); null on other stages and when the pipeline has one stage.
  std::unique_ptr<Communicator> embedding;
};

// Collective over `world`: every rank calls it with the same layout. Groups are named for error
// messages by their world ranks ("tensor group [2, 3]").
RankGroups make_rank_groups(std::shared_ptr<Communicator> world, const ParallelLayout& layout);

}  // namespace trellis
