// Reading and writing llm.c's GPT-2 checkpoints (fp32, version 3) into and out of parameters of
// any layout: each parameter is mapped by name to its llm.c tensor (and layer), and the shard
// this rank holds is cut out of (or written into) the whole tensor. Values pass through host
// memory and reach the parameters (which may be on a GPU) with `kernels`.
#pragma once

#include <filesystem>
#include <vector>

#include "trellis/kernels.h"
#include "trellis/layer.h"

namespace trellis {

// Fills every parameter in `params` from the checkpoint. Throws InputError naming the file when it
// is broken or its dimensions do not match `dims`, and Error for a parameter llm.c has no tensor
// for.
void load_llmc_checkpoint(const std::filesystem::path& file, const ModelDims& dims,
                          const std::vector<Parameter*>& params, Kernels& kernels);

// Writes the model as an llm.c checkpoint from one process: `params` must cover every value
// (Error naming the tensor otherwise); padded vocabulary rows are written as they are. Written to
// FILE.partial and renamed.
void save_llmc_checkpoint(const std::filesystem::path& file, const ModelDims& dims,
                          const std::vector<Parameter*>& params, Kernels& kernels);

// The same from many ranks, for files every rank can reach (one machine, or a shared
// filesystem): one rank creates the file (header, zeroed values), then every rank writes its
// shards into place with positioned writes (each value by exactly one rank), then one renames it.
void create_llmc_file(const std::filesystem::path& file, const ModelDims& dims);
void write_llmc_shards(const std::filesystem::path& file, const ModelDims& dims,
                       const std::vector<Parameter*>& params, Kernels& kernels);

}  // namespace trellis
