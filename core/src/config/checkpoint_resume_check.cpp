// checkpoint.resume: which checkpoint a resumed run continues from, decided before any rank
// starts, and whether it is of this run's model. Every rank resolves the same step: nothing
// writes checkpoints while a run starts.
#include "checkpoint/checkpoint_directory.h"
#include "checkpoint/manifest.h"
#include "config/config_check.h"
#include "trellis/error.h"

namespace trellis {

void check_checkpoint_resume(CheckContext& ctx, ResolvedRun& run) {
  const RunConfig& c = ctx.config();
  if (!c.checkpoint.resume || !ctx.valid("checkpoint.resume")) return;
  const std::optional<CheckpointStep> newest = newest_checkpoint(c.checkpoint.dir);
  if (!newest) return;  // the first run of a resumable job starts from [model] init
  const std::filesystem::path manifest_file = newest->dir / kManifestFile;
  try {
    const Manifest manifest = Manifest::read(manifest_file);
    std::vector<std::string> differences = model_differences(manifest.dims, run.dims);
    for (std::string& d : moe_differences(manifest.moe, run.moe)) differences.push_back(d);
    for (std::string& d : architecture_differences(manifest.arch, run.arch))
      differences.push_back(d);
    for (const std::string& d : differences) {
      ctx.problem("checkpoint.resume", "the newest checkpoint " + manifest_file.string() +
                                           " is of another model: " + d +
                                           "; valid: the [model] of the run that wrote it, or "
                                           "another [checkpoint] dir");
    }
    if (differences.empty()) {
      run.resume_from = newest->dir;
      run.resume_step = manifest.step;
    }
  } catch (const InputError& e) {
    ctx.problem("checkpoint.resume", e.what());
  }
}

}  // namespace trellis
