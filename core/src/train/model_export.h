// [model] export: the trained model as one llm.c checkpoint ("llmc:PATH") or one Hugging Face
// directory ("hf:DIR": a GPT-2 or a LLaMA, by the run's architecture), written from any layout
// without gathering it anywhere. Both go the same way: world rank 0 creates the file whole
// (header, values zeroed) next to its final place; every rank writes the values of the shards it
// exports (RankModel::exported_parameters: each value by exactly one rank) in place with
// positioned writes; rank 0 moves the file into place. The files must be reachable from every
// rank (one machine, or a shared filesystem).
#pragma once

#include <cstdio>
#include <filesystem>

#include "config/resolved_run.h"
#include "train/rank_model.h"
#include "trellis/comm.h"
#include "trellis/kernels.h"
#include "trellis/parallel.h"

namespace trellis {

// Collective over `world` (every rank calls it): the model as the llm.c checkpoint `file`.
void export_llmc_model(const std::filesystem::path& file, const ModelDims& dims,
                       const RankModel& model, const RankCoords& coords, Communicator& world,
                       Kernels& kernels);

// Collective over `world` (every rank calls it); does nothing when the run exports nothing.
// World rank 0 says on `console` where it wrote.
void export_trained_model(const ResolvedRun& run, const RankModel& model, const RankCoords& coords,
                          Communicator& world, Kernels& kernels, std::FILE* console);

}  // namespace trellis
