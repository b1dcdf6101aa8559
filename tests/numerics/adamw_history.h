// AdamW's state at every step of a run, read from its checkpoints: what adamw_bound.h needs to
// bound the run's trained parameters. The run saves a checkpoint after every step
// (`checkpoint.every = 1`, `checkpoint.keep = 0`); each holds, for every parameter, its values and
// AdamW's moments ("adamw.m/<name>", "adamw.v/<name>").
#pragma once

#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "adamw_bound.h"
#include "error_bound.h"
#include "trellis/config.h"
#include "trellis/tensor.h"

namespace trellis::test::numerics {

struct AdamwRunHistory {
  ModelDims dims;
  std::int64_t batch_tokens = 0;                      // tokens per optimizer step
  std::map<std::string, Shape> shapes;                // every parameter's whole shape
  std::map<std::string, AdamwTensorHistory> tensors;  // by parameter name
  int steps = 0;
};

// Reads every step of `checkpoints` (a run's checkpoints directory), which must be steps 1..T
// with nothing missing. Throws trellis::InputError naming what is wrong.
AdamwRunHistory read_adamw_history(const std::filesystem::path& checkpoints);

// The GPT the run trained, as error_bound.h's bounds see it.
GptShape gpt_shape(const AdamwRunHistory& history);

// For every parameter, the bound on each element's distance from the exact trained value after
// the history's steps: adamw_parameter_bound with eta_t = 2 gpt_gradient_bound(the tensor's
// largest gradient at step t). The factor 2: clipping scales the gradients by a factor computed
// from their norm, whose relative error is the gradients' own. `lr` holds each step's rate.
std::map<std::string, std::vector<double>> trained_parameter_bounds(const AdamwRunHistory& history,
                                                                    std::span<const double> lr,
                                                                    const AdamwSettings& settings);

// The parameters of an llm.c export by name, in the shapes of `history` (the same model).
std::map<std::string, std::vector<float>> read_llmc_export(const std::filesystem::path& file,
                                                           const AdamwRunHistory& history);

}  // namespace trellis::test::numerics
