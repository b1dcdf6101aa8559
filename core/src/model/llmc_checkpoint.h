// Reading and writing llm.c's GPT-2 checkpoints (fp32, version 3) into and out of parameters of
// any layout: each parameter is mapped by name to its llm.c tensor (and layer), and the shard
// this rank holds is cut out of (or written into) the whole tensor.
#pragma once

#include <filesystem>
#include <vector>

#include "trellis/layer.h"

namespace trellis {

// Fills every parameter in `params` from the checkpoint. Throws InputError naming the file when it
// is broken or its dimensions do not match `dims`, and Error for a parameter llm.c has no tensor
// for.
void load_llmc_checkpoint(const std::filesystem::path& file, const ModelDims& dims,
                          const std::vector<Parameter*>& params);

// Writes the model as an llm.c checkpoint. `params` must hold every parameter whole (one rank's
// view of an unsharded model); padded vocabulary rows are written as they are.
void save_llmc_checkpoint(const std::filesystem::path& file, const ModelDims& dims,
                          const std::vector<Parameter*>& params);

}  // namespace trellis
