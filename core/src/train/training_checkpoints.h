// Checkpoints as the step loop uses them (docs/checkpoints.md): what a run starts from — the
// newest checkpoint when resuming (parameters, AdamW's moments and step count, the step
// counter), or a checkpoint's parameters with [model] init = "checkpoint:DIR" — and a save every
// [checkpoint] every steps and after the last one. The format and its guarantees are the
// checkpoint module's (core/src/checkpoint); this file only says which pieces, when and where.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "checkpoint/manifest.h"
#include "config/resolved_run.h"
#include "data_parallel/optimizer.h"
#include "train/test_faults.h"
#include "trellis/comm.h"

namespace trellis {

// A resumed run whose newest checkpoint holds [run] steps (or more) has nothing left to train:
// the line that says so and what to change, else nullopt. trellis-train prints it and exits 0
// before starting anything.
std::optional<std::string> already_complete(const ResolvedRun& run);

class TrainingCheckpoints {
 public:
  // `kernels` moves the values between the tensors (host or device memory) and the files.
  TrainingCheckpoints(const ResolvedRun& run, Communicator& world, Kernels& kernels,
                      TestFaults faults);

  // Loads the run's starting point into the optimizer's pieces (collective only in that every
  // rank reads). Returns the steps already done: the checkpoint's step when resuming, else 0.
  // Throws InputError naming the file for a missing, corrupted or unservable checkpoint.
  std::int64_t load(Optimizer& optimizer, std::FILE* console, bool reports);

  // Saves after `steps_done` steps when that is due (collective over the world). Returns the line
  // to show ("checkpoint: DIR (0.12 s)"), or "" when nothing was saved.
  std::string after_step(std::int64_t steps_done, Optimizer& optimizer);

 private:
  void read_into(const std::filesystem::path& step_dir, std::vector<CheckpointPiece> pieces,
                 bool parameters_only, Manifest* manifest_out);

  const ResolvedRun& run_;
  Communicator& world_;
  Kernels& kernels_;
  TestFaults faults_;
};

}  // namespace trellis
