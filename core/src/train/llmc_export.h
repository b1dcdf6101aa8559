// [model] export = "llmc:PATH": the trained model as one llm.c checkpoint, written from any
// layout. Rank 0 makes the file; each shard is written in place by one rank — data rank 0,
// tensor rank 0 for the tensor-replicated parameters, the first stage for the tied token table —
// then rank 0 renames it into place.
#pragma once

#include <cstdio>
#include <filesystem>

#include "train/rank_model.h"
#include "trellis/comm.h"
#include "trellis/kernels.h"
#include "trellis/parallel.h"

namespace trellis {

// Collective over `world` (every rank calls it); world rank 0 says on `console` where it wrote.
void export_llmc_model(const std::filesystem::path& file, const RankModel& model,
                       const ModelDims& dims, const RankCoords& coords, Communicator& world,
                       Kernels& kernels, std::FILE* console);

}  // namespace trellis
