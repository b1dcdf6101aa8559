#include "trellis/rank_groups.h"

#include <algorithm>

#include "trellis/error.h"

namespace trellis {

namespace {

std::string ranks_text(const std::vector<int>& ranks) {
  std::string out = "[";
  for (std::size_t i = 0; i < ranks.size(); ++i) out += (i ? ", " : "") + std::to_string(ranks[i]);
  return out + "]";
}

// Names a group made by split() and gives it its world's timeout.
void name_group(std::unique_ptr<Communicator>& group, const std::string& what,
                const std::vector<int>& ranks, std::chrono::milliseconds timeout) {
  if (!group) throw Error("split of the " + what + " group gave this rank no communicator");
  group->set_name(what + " group " + ranks_text(ranks));
  group->set_timeout(timeout);
}

std::unique_ptr<Communicator> split_along(Communicator& world, const ParallelLayout& layout,
                                          const std::vector<ParallelDim>& dims,
                                          const std::string& name) {
  const int rank = world.rank();
  std::unique_ptr<Communicator> group =
      world.split(layout.group_color(rank, dims), layout.index_in_group(rank, dims));
  name_group(group, name, layout.group(rank, dims), world.timeout());
  return group;
}

// A row (or column) of the tensor grid: split of the tensor group, named by its world ranks.
std::unique_ptr<Communicator> split_grid(Communicator& tensor, int color, int key,
                                         const std::vector<int>& tensor_members,
                                         const std::vector<int>& tensor_group,
                                         const std::string& name) {
  std::unique_ptr<Communicator> group = tensor.split(color, key);
  std::vector<int> world_ranks;
  for (int t : tensor_members) world_ranks.push_back(tensor_group[t]);
  name_group(group, name, world_ranks, tensor.timeout());
  return group;
}

// The expert group (split from the expert dimension's world: ep consecutive data ranks) and the
// expert-data group (a split of the data group). See rank_groups.h.
void split_expert_groups(RankGroups& g, Communicator& expert_world, const ParallelLayout& layout,
                         int ep) {
  const int data_size = layout.sizes().data;
  if (ep <= 1) return;
  if (data_size % ep != 0 || layout.sizes().context != 1) {
    throw Error("expert parallelism " + std::to_string(ep) +
                " needs a data size that it divides (" + std::to_string(data_size) +
                ") and context 1");
  }
  const int rank = g.world->rank();
  const int d = layout.coords(rank).data;
  // Each data group holds data_size / ep expert groups.
  const int expert_color =
      layout.group_color(rank, {ParallelDim::data}) * (data_size / ep) + d / ep;
  g.expert = expert_world.split(expert_color, d % ep);
  name_group(g.expert, "expert", expert_group_members(layout, rank, ep, false),
             expert_world.timeout());
  g.expert_data = g.data->split(d % ep, d / ep);
  name_group(g.expert_data, "expert-data", expert_group_members(layout, rank, ep, true),
             g.data->timeout());
}

}  // namespace

std::vector<int> expert_group_members(const ParallelLayout& layout, int rank, int ep,
                                      bool expert_data) {
  // The expert group: data ranks [d - d % ep, +ep); the expert-data group: d % ep, step ep.
  const RankCoords c = layout.coords(rank);
  const int first = expert_data ? c.data % ep : c.data - c.data % ep;
  const int step = expert_data ? ep : 1;
  const int count = expert_data ? layout.sizes().data / ep : ep;
  std::vector<int> ranks;
  for (int i = 0; i < count; ++i) {
    RankCoords member = c;
    member.data = first + i * step;
    ranks.push_back(layout.rank_of(member));
  }
  return ranks;
}

RankGroups make_rank_groups(std::shared_ptr<Communicator> world, const ParallelLayout& layout,
                            int expert_size) {
  GroupWorlds worlds;
  worlds.world = std::move(world);
  return make_rank_groups(worlds, layout, expert_size);
}

RankGroups make_rank_groups(const GroupWorlds& worlds, const ParallelLayout& layout,
                            int expert_size) {
  if (!worlds.world) throw Error("make_rank_groups: no world communicator");
  RankGroups g;
  g.world = worlds.world;
  // Each dimension's world: its own, or the default one.
  const auto world_of = [&](const std::shared_ptr<Communicator>& own) -> Communicator& {
    if (!own || own == g.world) return *g.world;
    if (own->size() != g.world->size() || own->rank() != g.world->rank()) {
      throw Error("the " + std::string(own->backend()) + " world is rank " +
                  std::to_string(own->rank()) + " of " + std::to_string(own->size()) + " but the " +
                  g.world->backend() + " world rank " + std::to_string(g.world->rank()) + " of " +
                  std::to_string(g.world->size()) +
                  ": every backend's world must hold the same ranks in the same order");
    }
    if (std::find(g.other_worlds.begin(), g.other_worlds.end(), own) == g.other_worlds.end()) {
      g.other_worlds.push_back(own);
    }
    return *own;
  };
  Communicator& w = *g.world;
  if (w.size() != layout.world_size()) {
    throw Error("the world has " + std::to_string(w.size()) + " ranks but the layout " +
                std::to_string(layout.world_size()));
  }
  Communicator& tensor_world = world_of(worlds.tensor);
  Communicator& context_world = world_of(worlds.context);
  Communicator& data_world = world_of(worlds.data);
  Communicator& pipeline_world = world_of(worlds.pipeline);
  Communicator& expert_world = world_of(worlds.expert);

  g.tensor = split_along(tensor_world, layout, {ParallelDim::tensor}, "tensor");
  const int tensor_size = layout.sizes().tensor;
  if (tensor_size > 1 && TensorGrid::is_square(tensor_size)) {
    const TensorGrid grid(tensor_size);
    const int t = g.tensor->rank();
    const std::vector<int> members = layout.group(w.rank(), {ParallelDim::tensor});
    g.tensor_row =
        split_grid(*g.tensor, grid.row(t), grid.col(t), grid.row_members(t), members, "tensor row");
    g.tensor_col = split_grid(*g.tensor, grid.col(t), grid.row(t), grid.col_members(t), members,
                              "tensor column");
  }
  g.context = split_along(context_world, layout, {ParallelDim::context}, "context");
  g.data = split_along(data_world, layout, {ParallelDim::data}, "data");
  // Ordered data-fastest, so that with context 1 its ranks are the data group's.
  g.data_context =
      split_along(data_world, layout, {ParallelDim::data, ParallelDim::context}, "data-context");
  g.pipeline = split_along(pipeline_world, layout, {ParallelDim::pipeline}, "pipeline");
  g.model_parallel =
      split_along(w, layout, {ParallelDim::tensor, ParallelDim::pipeline}, "model-parallel");
  // The embedding group: stage 0 and the last stage of each pipeline (same other coordinates).
  const int p = layout.sizes().pipeline;
  if (p > 1) {
    const RankCoords c = layout.coords(w.rank());
    const bool end_stage = c.pipeline == 0 || c.pipeline == p - 1;
    const int color = end_stage ? layout.group_color(w.rank(), {ParallelDim::pipeline}) : -1;
    g.embedding = pipeline_world.split(color, c.pipeline);
    if (end_stage) {
      RankCoords first = c, last = c;
      first.pipeline = 0;
      last.pipeline = p - 1;
      name_group(g.embedding, "embedding", {layout.rank_of(first), layout.rank_of(last)},
                 pipeline_world.timeout());
    }
  }
  split_expert_groups(g, expert_world, layout, expert_size);
  return g;
}

}  // namespace trellis
