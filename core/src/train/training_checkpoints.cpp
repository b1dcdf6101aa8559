#include "train/training_checkpoints.h"

#include <chrono>

#include "checkpoint/checkpoint_directory.h"
#include "checkpoint/checkpoint_reader.h"
#include "checkpoint/checkpoint_writer.h"
#include "os/absolute_path.h"
#include "trellis/error.h"

namespace trellis {

namespace {

// A tensor of a row per padded vocabulary entry: the token table, an untied head's own weight
// ("lm_head.weight"), and their AdamW moments.
bool has_vocabulary_rows(const std::string& name) {
  for (const char* table : {"wte", "lm_head.weight"}) {
    if (name == table || name.ends_with(std::string("/") + table)) return true;
  }
  return false;
}

bool is_moment(const std::string& name) {
  return name.starts_with("adamw.");
}

}  // namespace

TrainingCheckpoints::TrainingCheckpoints(const ResolvedRun& run, Communicator& world,
                                         Kernels& kernels, TestFaults faults)
    : run_(run), world_(world), kernels_(kernels), faults_(faults) {}

void TrainingCheckpoints::read_into(const std::filesystem::path& step_dir,
                                    std::vector<CheckpointPiece> pieces, bool parameters_only,
                                    Manifest* manifest_out) {
  CheckpointReader reader(step_dir);
  // The config check compared the models already; this guards runs made without it.
  const std::vector<std::string> differences = model_differences(reader.manifest().dims, run_.dims);
  if (!differences.empty()) {
    throw InputError("checkpoint " + (step_dir / kManifestFile).string() +
                     " is of another model: " + differences.front());
  }
  for (CheckpointPiece& piece : pieces) {
    if (parameters_only && is_moment(piece.name)) continue;
    // Rows past the real vocabulary are padding: another tensor size pads to another count.
    if (has_vocabulary_rows(piece.name)) piece.padding_rows_from = run_.dims.vocab_size;
    reader.read(piece, kernels_);
  }
  if (manifest_out) *manifest_out = reader.manifest();
}

std::optional<std::string> already_complete(const ResolvedRun& run) {
  const std::int64_t steps = run.config.run.steps;
  if (!run.resume_from || run.resume_step < steps) return std::nullopt;
  return "run '" + run.config.run.name + "' is already complete: its newest checkpoint " +
         absolute_path_text(*run.resume_from) + " holds step " + std::to_string(run.resume_step) +
         (run.resume_step == steps ? " of " : ", past ") +
         "[run] steps = " + std::to_string(steps) +
         "; nothing to train. Raise [run] steps to train on, or set [checkpoint] resume = false "
         "(or another [checkpoint] dir) to start again.";
}

std::int64_t TrainingCheckpoints::load(Optimizer& optimizer, std::FILE* console, bool reports) {
  // Saves a crash cut short are never read; a resumed run clears them even if it saves nothing.
  // Rank 0 only, before any rank of this run saves.
  std::error_code ec;
  if (reports && run_.config.checkpoint.resume &&
      std::filesystem::is_directory(run_.config.checkpoint.dir, ec)) {
    remove_partial_saves(run_.config.checkpoint.dir);
  }
  if (run_.resume_from) {
    Manifest manifest;
    read_into(*run_.resume_from, optimizer.pieces_to_load(), false, &manifest);
    optimizer.set_steps_taken(manifest.optimizer_steps);
    if (reports) {
      std::fprintf(console,
                   "resume: %s (step %lld, written by %d rank%s: tensor %d x context %d x "
                   "pipeline %d x data %d, zero %d)\n",
                   run_.resume_from->c_str(), static_cast<long long>(manifest.step),
                   manifest.layout.world, manifest.layout.world == 1 ? "" : "s",
                   manifest.layout.tensor, manifest.layout.context, manifest.layout.pipeline,
                   manifest.layout.data, manifest.layout.zero);
      const RunConfig& c = run_.config;
      if (manifest.data.global_batch != c.train.global_batch ||
          manifest.data.seq_len != run_.dims.seq_len || manifest.data.shuffle != c.data.shuffle ||
          (c.data.shuffle && manifest.data.seed != c.run.seed)) {
        std::fprintf(console,
                     "resume: note: the checkpoint's data settings (global_batch %lld, seq_len "
                     "%lld, shuffle %s, seed %lld) differ from this run's: the next steps read "
                     "other windows than the interrupted run would have\n",
                     static_cast<long long>(manifest.data.global_batch),
                     static_cast<long long>(manifest.data.seq_len),
                     manifest.data.shuffle ? "true" : "false",
                     static_cast<long long>(manifest.data.seed));
      }
    }
    return manifest.step;
  }
  if (run_.config.checkpoint.resume && reports) {
    std::fprintf(console, "resume: no checkpoint in %s yet; starting from [model] init\n",
                 absolute_path_text(run_.config.checkpoint.dir).c_str());
  }
  if (run_.init.kind == ModelInit::Kind::checkpoint) {
    read_into(run_.init.path, optimizer.pieces_to_load(), true, nullptr);
    if (reports) {
      std::fprintf(console, "init: parameters of %s (a fresh optimizer, from step 1)\n",
                   run_.init.path.c_str());
    }
  }
  return 0;
}

std::string TrainingCheckpoints::after_step(std::int64_t steps_done, Optimizer& optimizer) {
  const CheckpointSection& c = run_.config.checkpoint;
  if (c.every <= 0) return "";
  if (steps_done % c.every != 0 && steps_done != run_.config.run.steps) return "";
  const auto start = std::chrono::steady_clock::now();
  const ParallelSizes& sizes = run_.layout.sizes();
  CheckpointSave save;
  save.dir = c.dir;
  save.keep = c.keep;
  Manifest& h = save.header;
  h.step = steps_done;
  h.optimizer_steps = optimizer.steps_taken();
  h.dims = run_.dims;
  h.moe = run_.moe;
  h.arch = run_.arch;
  h.layout = {run_.world_size,
              sizes.tensor,
              sizes.pipeline,
              sizes.data,
              sizes.context,
              run_.virtual_stages,
              run_.config.parallel.tensor_mode,
              static_cast<int>(run_.config.optim.zero),
              static_cast<int>(run_.moe.expert_parallel)};
  h.data = {run_.config.train.global_batch, run_.dims.seq_len, run_.config.data.shuffle,
            run_.config.run.seed};
  save.after_shards_written = [&] { faults_.in_checkpoint(steps_done); };
  const std::filesystem::path written =
      save_checkpoint(save, optimizer.pieces_to_save(), world_, kernels_);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  char line[64];
  std::snprintf(line, sizeof(line), " (%.2f s)", seconds);
  return "checkpoint: " + written.string() + line;
}

}  // namespace trellis
