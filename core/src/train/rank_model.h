// The part of the model one rank holds: the layer family made on this rank's tensor group (and,
// under context parallelism, the attention across its context group), the
// model chunks of the pipeline stages the plan puts on its pipeline rank, their parameters, and
// where the token table tied to the LM head sits.
//
// With tied embeddings (ModelArchitecture::tie_embeddings, GPT-2's) the table lives on the first
// stage and, as the LM head's copy, on the last; a rank at either end of a pipeline holds one.
// The copy on the last stage (when the first stage is elsewhere) is counted once: the optimizer
// leaves it out of the gradient norm and checkpoints, and the exports write the first stage's.
// An untied head's weight ("lm_head.weight") is a parameter like any other: no table is tied.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "config/resolved_run.h"
#include "model/model_chunk.h"
#include "trace/trace.h"
#include "trellis/context_attention.h"
#include "trellis/kernels.h"
#include "trellis/layer.h"
#include "trellis/parallel.h"
#include "trellis/pipeline_plan.h"
#include "trellis/rank_groups.h"

namespace trellis {

class RankModel {
 public:
  // Makes the run's layer family with this rank's tensor groups and the chunks of every stage
  // that `plan` places on `pipeline_rank`. With [parallel] context > 1 the family's attention is
  // the context plugin's, over groups.context; it records into `trace` when that is not null.
  // The parameters are not initialised yet.
  RankModel(const ResolvedRun& run, const PipelinePlan& plan, int pipeline_rank,
            const RankGroups& groups, std::shared_ptr<Allocator> allocator, Kernels* kernels,
            TraceRecorder* trace);

  // The tokens of each sequence this rank holds (ContextChunks order).
  const ContextChunks& context_chunks() const noexcept { return context_chunks_; }

  // Fills the parameters as [model] init asks: from (seed, name), from an llm.c checkpoint or
  // from a Hugging Face directory.
  // A resumed run and "checkpoint:DIR" are read later, once the optimizer has laid the
  // parameters out, so they are left as they are here.
  void initialize(const ResolvedRun& run, Kernels& kernels);

  LayerFamily& family() const noexcept { return *family_; }
  // This rank's chunks by stage.
  const std::map<int, std::unique_ptr<ModelChunk>>& chunks() const noexcept { return chunks_; }
  // Every parameter of every chunk, stage by stage.
  const std::vector<Parameter*>& parameters() const noexcept { return params_; }

  bool holds_stage(int stage) const { return chunks_.count(stage) != 0; }
  bool holds_first_stage() const { return holds_stage(0); }
  bool holds_last_stage() const { return holds_stage(stages_ - 1); }

  // This rank's token table when it sits on a pipeline end and the head is tied to it, else
  // null.
  Parameter* tied_table() const noexcept { return tied_table_; }
  // The table is the LM head's copy of one another rank holds (the first stage is elsewhere).
  bool tied_table_is_copy() const { return tied_table_ != nullptr && !holds_first_stage(); }

  // The parameters this rank writes into a whole-model export (llm.c, Hugging Face), so that
  // each value is written by exactly one rank: none off rank 0 of the data and context groups,
  // none of the tensor-replicated ones off tensor rank 0, and never the head's copy of the table.
  std::vector<Parameter*> exported_parameters(const RankCoords& coords) const;

 private:
  int stages_ = 1;
  ContextChunks context_chunks_;
  // Declared before the family, whose context attention records into it.
  std::unique_ptr<ContextTrace> context_trace_;
  // Declared before the family and the chunks, which report recomputation to it.
  std::unique_ptr<RecomputeTrace> recompute_trace_;
  std::shared_ptr<LayerFamily> family_;
  // Declared after the family: objects a plugin made must go before the family that made them.
  std::map<int, std::unique_ptr<ModelChunk>> chunks_;
  std::vector<Parameter*> params_;
  Parameter* tied_table_ = nullptr;
};

}  // namespace trellis
