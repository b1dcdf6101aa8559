#include "train/rank_model.h"

#include "model/hf_weights.h"
#include "model/llmc_checkpoint.h"
#include "model/param_init.h"
#include "trace/recorder_context_trace.h"
#include "trace/recorder_recompute_trace.h"
#include "trace/traced_token_dispatcher.h"

namespace trellis {

RankModel::RankModel(const ResolvedRun& run, const PipelinePlan& plan, int pipeline_rank,
                     const RankGroups& groups, std::shared_ptr<Allocator> allocator,
                     Kernels* kernels, TraceRecorder* trace)
    : stages_(plan.stages()) {
  LayerFamilyInit init;
  init.dims = run.dims;
  init.groups.tensor = groups.tensor.get();
  init.groups.row = groups.tensor_row.get();
  init.groups.col = groups.tensor_col.get();
  init.allocator = std::move(allocator);
  init.kernels = kernels;
  init.micro_batch = static_cast<int>(run.config.train.micro_batch);
  init.seed = static_cast<std::uint64_t>(run.config.run.seed);
  init.options = &run.layers_options();
  init.moe = run.moe;
  init.arch = run.arch;
  if (groups.expert) {
    DispatcherInit dispatch;
    dispatch.expert_group = groups.expert.get();
    dispatch.experts = run.moe.experts;
    dispatch.kernels = kernels;
    dispatch.allocator = init.allocator;
    dispatch.options = &run.dispatcher_options();
    init.expert_rank = groups.expert->rank();
    init.dispatcher =
        run.registry->make_dispatcher(run.config.parallel.expert_dispatcher, dispatch);
    if (trace != nullptr) init.dispatcher = traced_token_dispatcher(init.dispatcher, *trace);
  }
  context_chunks_ = {run.dims.seq_len, groups.context->size(), groups.context->rank()};
  init.chunks = context_chunks_;
  if (context_chunks_.size > 1) {
    if (trace != nullptr) context_trace_ = std::make_unique<RecorderContextTrace>(*trace);
    ContextInit context;
    context.context = groups.context.get();
    context.chunks = context_chunks_;
    context.kernels = kernels;
    context.allocator = init.allocator;
    context.trace = context_trace_.get();
    context.options = &run.context_options();
    init.context = groups.context.get();
    init.context_attention = run.registry->make_context(run.config.parallel.context_mode, context);
  }
  if (trace != nullptr) recompute_trace_ = std::make_unique<RecorderRecomputeTrace>(*trace);
  init.recompute_attention = run.recompute.granularity == RecomputeGranularity::selective;
  init.recompute_trace = recompute_trace_.get();
  family_ = run.registry->make_layers(run.config.parallel.tensor_mode, init);

  // A rank holding stage 0 hands its embedding to its later chunks, so that a head on this rank
  // shares the embedding's table rather than holding a copy.
  Layer* embedding = nullptr;
  for (int stage = 0; stage < stages_; ++stage) {
    if (plan.stage_rank[stage] != pipeline_rank) continue;
    auto chunk = std::make_unique<ModelChunk>(
        *family_, chunk_spec(static_cast<int>(run.dims.layers), stages_, stage), embedding,
        run.recompute, recompute_trace_.get());
    if (chunk->embedding()) embedding = chunk->embedding();
    chunks_[stage] = std::move(chunk);
  }
  for (auto& [stage, chunk] : chunks_)
    for (Parameter* p : chunk->parameters()) params_.push_back(p);
  // The embedding group joins the pipeline's ends: a rank in it holds the table. An untied head
  // has a weight of its own ("lm_head.weight"), and nothing is shared between the ends.
  if (groups.embedding && run.arch.tie_embeddings) {
    for (Parameter* p : params_)
      if (p->name == "wte") tied_table_ = p;
  }
}

void RankModel::initialize(const ResolvedRun& run, Kernels& kernels) {
  if (run.resume_from) return;
  switch (run.init.kind) {
    case ModelInit::Kind::random:
      initialize_parameters(params_, static_cast<std::uint64_t>(run.config.run.seed), kernels);
      break;
    case ModelInit::Kind::llmc:
      load_llmc_checkpoint(run.init.path, run.dims, params_, kernels);
      break;
    case ModelInit::Kind::hf:
      load_hf_weights(HfDirectory(run.init.path), hf_model(run.dims, run.arch), params_, kernels);
      break;
    case ModelInit::Kind::checkpoint:
      break;
  }
}

std::vector<Parameter*> RankModel::exported_parameters(const RankCoords& coords) const {
  std::vector<Parameter*> mine;
  if (coords.data != 0 || coords.context != 0) return mine;
  for (Parameter* p : params_) {
    const bool replica = p->tensor_replicas > 1 && coords.tensor != 0;
    const bool tied_copy = p == tied_table_ && tied_table_is_copy();
    if (!replica && !tied_copy) mine.push_back(p);
  }
  return mine;
}

}  // namespace trellis
