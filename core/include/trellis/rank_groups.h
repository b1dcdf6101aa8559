// The communicators one rank trains with, made from the world by split() along the layout's
// dimensions (Megatron's process groups), and handed to whoever needs them — no global state.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "trellis/comm.h"
#include "trellis/parallel.h"

namespace trellis {

struct RankGroups {
  std::shared_ptr<Communicator> world;
  // With a backend per dimension (GroupWorlds): the other backends' worlds, which the groups
  // split from them need alive (declared before the groups, so destroyed after them).
  std::vector<std::shared_ptr<Communicator>> other_worlds;
  std::unique_ptr<Communicator> tensor;  // ranks splitting each layer
  // When the tensor size is a square q*q > 1, the tensor group seen as a q x q grid (TensorGrid):
  // this rank's grid row and grid column, for 2D tensor parallelism. Null otherwise.
  std::unique_ptr<Communicator> tensor_row;
  std::unique_ptr<Communicator> tensor_col;
  std::unique_ptr<Communicator> context;  // ranks holding chunks of the same sequences
  std::unique_ptr<Communicator> data;     // ranks training on other sequences, same shard
  // data x context (Megatron's dp-cp group): every rank holding a replica of the same parameter
  // shard. Gradients are summed over it (context ranks saw other tokens of the same sequences,
  // data ranks other sequences), ZeRO-1 shards optimizer state over it, and its rank 0 writes
  // the shard to checkpoints and exports. The data group itself when context is 1.
  std::unique_ptr<Communicator> data_context;
  std::unique_ptr<Communicator> pipeline;        // the ranks of one pipeline, in stage order
  std::unique_ptr<Communicator> model_parallel;  // tensor x pipeline: one whole model
  // The first and last pipeline stage of one pipeline, which both hold the token table (tied to
  // the LM head); null on other stages and when the pipeline has one stage.
  std::unique_ptr<Communicator> embedding;
  // Expert parallelism ([parallel] expert = ep > 1; null otherwise), Megatron-LM's layout inside
  // the data group: the expert group is ep consecutive data ranks (data rank d is its rank
  // d % ep), which split each MoE block's experts; the expert-data group is the data ranks
  // holding the same experts (d % ep equal), over which expert gradients are summed.
  std::unique_ptr<Communicator> expert;
  std::unique_ptr<Communicator> expert_data;
};

// The world each dimension's groups are split from: one per backend when [comm.groups] chooses a
// backend per dimension. Null entries mean `world`.
//   tensor:   tensor, tensor row and column
//   context:  context
//   data:     data, data-context (the gradient reduction: data-parallel traffic), expert-data
//   pipeline: pipeline, embedding (the tied table's reduction between the pipeline's ends)
//   expert:   expert
//   world:    the world itself and model-parallel
struct GroupWorlds {
  std::shared_ptr<Communicator> world;
  std::shared_ptr<Communicator> tensor;
  std::shared_ptr<Communicator> context;
  std::shared_ptr<Communicator> data;
  std::shared_ptr<Communicator> pipeline;
  std::shared_ptr<Communicator> expert;
};

// Collective over every world of `worlds` (each of all the ranks, in the same rank order), as the
// overload below over one.
RankGroups make_rank_groups(const GroupWorlds& worlds, const ParallelLayout& layout,
                            int expert_size = 1);

// Collective over `world`: every rank calls it with the same layout and expert size (which
// divides the data size; context must be 1 when it is above 1). Groups are named for error
// messages by their world ranks ("tensor group [2, 3]").
RankGroups make_rank_groups(std::shared_ptr<Communicator> world, const ParallelLayout& layout,
                            int expert_size = 1);

// The world ranks of `rank`'s expert group (`expert_data` false) or expert-data group (true)
// under expert size `ep` (dividing the data size), in their group order: what
// make_rank_groups splits, for reports that name the groups without making them.
std::vector<int> expert_group_members(const ParallelLayout& layout, int rank, int ep,
                                      bool expert_data);

}  // namespace trellis
