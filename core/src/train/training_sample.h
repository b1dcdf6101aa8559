// [logging] sample_every: every so many steps the model writes a short text, printed on world
// rank 0's console, so a run shows what it has learned as it goes (llm.c prints one too).
//
// The model is spread over the ranks of any layout, and the decoder (generate/) wants it whole:
// every rank writes its shards into one llm.c file in out_dir, as the export does
// (model_export.h) — or, for an architecture other than GPT-2's, which llm.c's format cannot
// hold, into a checkpoint of the parameters alone in out_dir/sample-checkpoint (the checkpoint
// writer's format, Trellis's names) — and world rank 0 reads it into a decoder of the run's
// architecture, samples sample_tokens tokens after the prompt with a seed drawn from [run] seed
// and the step, prints them and removes the file, while the others wait at a barrier. So a sample
// costs one export and, on rank 0, the whole model once more in memory for a moment; it changes
// nothing of the training.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/resolved_run.h"
#include "dataset/token_dataset.h"
#include "train/rank_model.h"
#include "trellis/comm.h"
#include "trellis/kernels.h"
#include "trellis/parallel.h"

namespace trellis {

class TrainingSampler {
 public:
  // `train_data` (null where this rank reads none) gives the default prompt: the file's first
  // tokens. Throws InputError when [logging] sample_prompt has a token the model has not.
  TrainingSampler(const ResolvedRun& run, const TokenDataset* train_data);

  // After step index `step` (0-based) is trained.
  bool due(std::int64_t step) const;

  // Collective over `world`. Returns the lines to print on world rank 0 ("" elsewhere).
  std::string sample(std::int64_t step, const RankModel& model, const RankCoords& coords,
                     Communicator& world, Kernels& kernels,
                     const std::shared_ptr<Allocator>& allocator) const;

 private:
  const ResolvedRun& run_;
  std::vector<std::int32_t> prompt_;
};

}  // namespace trellis
