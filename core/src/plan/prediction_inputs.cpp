#include "plan/prediction_inputs.h"

#include "model/model_chunk.h"
#include "plan/context_work.h"
#include "plan/family_cost.h"
#include "trellis/error.h"

namespace trellis::plan {

namespace {

void check_request(const PlanRequest& r) {
  const LayoutChoice& l = r.layout;
  auto fail = [&](const std::string& why) {
    throw InputError("cannot predict " + l.describe() + ": " + why);
  };
  if (l.tensor < 1 || l.context < 1 || l.pipeline < 1 || l.data < 1 || l.virtual_stages < 1 ||
      l.micro_batch < 1)
    fail("every size must be >= 1");
  if (l.context > 1 && r.dims.seq_len % (2 * l.context) != 0)
    fail("seq_len " + std::to_string(r.dims.seq_len) +
         " does not cut into 2 x context = " + std::to_string(2 * l.context) + " equal chunks");
  if (l.virtual_stages > 1 && l.pipeline == 1) fail("virtual stages need a pipeline");
  if (l.expert < 1) fail("every size must be >= 1");
  if (l.expert > 1) {
    if (r.moe.experts == 0) fail("expert parallelism needs a model with experts");
    if (r.moe.experts % l.expert != 0 || l.data % l.expert != 0)
      fail("expert " + std::to_string(l.expert) + " must divide the experts (" +
           std::to_string(r.moe.experts) + ") and data (" + std::to_string(l.data) + ")");
    if (l.context > 1) fail("expert parallelism needs context 1");
  }
  if (r.dims.layers % (l.pipeline * l.virtual_stages) != 0)
    fail(std::to_string(r.dims.layers) + " layers do not split into " +
         std::to_string(l.pipeline * l.virtual_stages) + " stages");
  if (r.global_batch % (static_cast<std::int64_t>(l.micro_batch) * l.data) != 0)
    fail("global batch " + std::to_string(r.global_batch) +
         " is not a multiple of micro_batch x data");
  if (l.pipeline > 1 && r.plan == nullptr) fail("a pipeline needs its schedule's plan");
  if (r.plan != nullptr &&
      (r.plan->pipeline_size != l.pipeline || r.plan->virtual_stages != l.virtual_stages)) {
    fail("the plan is for another pipeline");
  }
}

// The grid rows and columns of every tensor group: tensor rank k at row k / q, column k % q
// (trellis/layer_cost.h's TensorSubgroup).
std::pair<std::vector<std::vector<int>>, std::vector<std::vector<int>>> grid_groups(
    const ParallelLayout& layout, int q) {
  std::vector<std::vector<int>> rows, columns;
  for (const std::vector<int>& group : layout.all_groups({ParallelDim::tensor})) {
    for (int i = 0; i < q; ++i) {
      std::vector<int> row, column;
      for (int j = 0; j < q; ++j) {
        row.push_back(group[static_cast<std::size_t>(i * q + j)]);
        column.push_back(group[static_cast<std::size_t>(j * q + i)]);
      }
      rows.push_back(row);
      columns.push_back(column);
    }
  }
  return {rows, columns};
}

}  // namespace

PredictionInputs prediction_inputs(const PlanRequest& request, const ClusterSpec& cluster) {
  check_request(request);
  const LayoutChoice& choice = request.layout;
  const ModelDims& dims = request.dims;
  PredictionInputs in;
  in.precision =
      request.precision ? *request.precision : precision_for(cluster.accelerator.train_dtype);
  const int t = choice.tensor;
  in.microbatches = static_cast<int>(request.global_batch / (choice.micro_batch * choice.data));

  in.layout = ParallelLayout(choice.sizes(), choice.order);
  in.rank_devices = devices_per_rank(cluster, choice);
  in.placement = place_ranks(cluster, in.layout.world_size(), in.rank_devices);
  in.tensor_link = group_link(cluster, in.placement, in.layout, {ParallelDim::tensor});
  in.context_link = group_link(cluster, in.placement, in.layout, {ParallelDim::context});
  // Replicated parameters' gradients reduce over data x context (ZeRO-1 shards over it).
  in.data_link =
      group_link(cluster, in.placement, in.layout, {ParallelDim::context, ParallelDim::data});
  in.pipeline_link = pipeline_link(cluster, in.placement, in.layout);
  in.expert_link = in.expert_data_link = GroupLink{};
  if (choice.expert > 1) {
    in.expert_link =
        link_of_groups(cluster, in.placement, expert_groups(in.layout, choice.expert, false));
    in.expert_data_link =
        link_of_groups(cluster, in.placement, expert_groups(in.layout, choice.expert, true));
  } else if (request.moe.experts > 0) {
    in.expert_data_link = in.data_link;  // every rank holds every expert
  }

  const double e = in.precision.activation_bytes;
  const int c = choice.context;
  if (c > 1) {
    ModelDims local = dims;  // a rank's T/c tokens of each sequence
    local.seq_len = dims.seq_len / c;
    in.context = context_cost(request.registry, dims, choice, e);
    in.cost = context_layer_cost(family_cost(request.registry, local, request.arch, choice, e),
                                 family_cost(request.registry, dims, request.arch, choice, e),
                                 *in.context);
  } else {
    in.cost = family_cost(request.registry, dims, request.arch, choice, e);
  }
  if (request.moe.experts > 0)
    in.moe = moe_work(request.registry, dims, request.arch, choice, request.moe, in.cost, e);
  in.row_link = in.column_link = in.tensor_link;
  const int q = in.cost.grid_side;
  if (q > 1) {
    if (q * q != t) {
      throw InputError("tensor mode '" + choice.tensor_mode + "' describes a " + std::to_string(q) +
                       " x " + std::to_string(q) + " grid for a tensor group of " +
                       std::to_string(t));
    }
    auto [rows, columns] = grid_groups(in.layout, q);
    in.row_link = link_of_groups(cluster, in.placement, rows);
    in.column_link = link_of_groups(cluster, in.placement, columns);
  }
  in.flop_rate =
      cluster.train_peak_flops() * cluster.accelerator.compute_efficiency * in.rank_devices;
  in.byte_rate = cluster.accelerator.memory_bandwidth * cluster.accelerator.memory_efficiency *
                 in.rank_devices;

  ActivationShape& shape = in.shape;
  shape.micro_batch = choice.micro_batch;
  shape.seq_len = dims.seq_len / c;  // the rank's tokens of a sequence
  shape.hidden = dims.hidden;
  shape.heads = dims.heads;
  shape.tensor = t;
  shape.recompute = choice.recompute;
  shape.activation_bytes = in.precision.activation_bytes;

  if (request.plan != nullptr) {
    in.plan = request.plan;
  } else {
    in.own_plan = std::make_shared<const PipelinePlan>(single_stage_plan(in.microbatches));
    in.plan = in.own_plan.get();
  }
  const PipelinePlan& plan = *in.plan;
  const int stages = plan.stages();
  const int last = stages - 1;
  // An untied head has its own weight: nothing is summed between the pipeline's ends.
  const bool tied = request.architecture().tie_embeddings;
  in.tied_copy = tied && plan.stage_rank[0] != plan.stage_rank[static_cast<std::size_t>(last)];

  const PassWork embedding = embedding_work(in.cost);
  const PassWork head = head_work(in.cost);
  const ParameterCount& params = in.cost.parameters;
  for (int s = 0; s < stages; ++s) {
    const ChunkSpec spec = chunk_spec(static_cast<int>(dims.layers), stages, s);
    StageInputs stage;
    std::vector<ChunkBlock> blocks;
    std::vector<BlockMemory> memory;
    for (int b = spec.first_block; b < spec.first_block + spec.blocks; ++b) {
      double forward_workspace = 0.0;  // a dense block's forward holds nothing beyond its stash
      if (in.moe && request.moe.is_moe_block(b)) {
        blocks.push_back({&in.moe->layer, in.moe->dispatch ? &*in.moe->dispatch : nullptr});
        stage.expert_parameters += in.moe->block.expert_parameters;
        forward_workspace = in.moe->forward_workspace;
      } else {
        blocks.push_back({&in.cost});
      }
      stage.parameters += blocks.back().cost->parameters.block;
      memory.push_back({blocks.back().cost->block_stash, forward_workspace});
    }
    stage.work = chunk_blocks_work(blocks, choice.recompute, in.context ? &*in.context : nullptr);
    if (spec.has_embedding()) {
      stage.work += embedding;
      stage.parameters += params.embedding;
    }
    if (spec.has_head()) {
      stage.work += head;
      stage.parameters += params.head + (in.tied_copy ? params.token_table : 0.0);
    }
    stage.activations =
        chunk_activations(in.cost, shape, memory, spec.has_head(), request.activation_model);
    in.stages.push_back(std::move(stage));
  }
  return in;
}

}  // namespace trellis::plan
