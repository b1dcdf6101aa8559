// AdamW's state at every step of a run, read from its checkpoints: what adamw_bound.h needs to
// bound the run's trained parameters. The run saves a checkpoint after every step
// (`checkpoint.every = 1`, `checkpoint.keep = 0`); each holds, for every parameter, its values and
// AdamW's moments ("adamw.m/<name>", "adamw.v/<name>").
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "adamw_bound.h"
#include "trellis/config.h"
#include "trellis/tensor.h"

namespace trellis::test::numerics {

struct AdamwRunHistory {
  ModelDims dims;
  std::map<std::string, Shape> shapes;                // every parameter's whole shape
  std::map<std::string, AdamwTensorHistory> tensors;  // by parameter name
  int steps = 0;
};

// Reads every step of `checkpoints` (a run's checkpoints directory), which must be steps 1..T
// with nothing missing. Throws trellis::InputError naming what is wrong.
AdamwRunHistory read_adamw_history(const std::filesystem::path& checkpoints);

// The parameters of an llm.c export by name, in the shapes of `history` (the same model).
std::map<std::string, std::vector<float>> read_llmc_export(const std::filesystem::path& file,
                                                           const AdamwRunHistory& history);

}  // namespace trellis::test::numerics
