// Settings whose defaults follow from other keys: the output directory from the run's name,
// checkpoints and metrics inside it. Filled in here so every later reader sees real paths.
#include <cmath>

#include "config/config_check.h"

namespace trellis {

namespace {

void fill(CheckContext& ctx, const char* key, std::string& value, const std::string& derived,
          const char* rule) {
  if (!value.empty()) return;
  value = derived;
  Origin origin = ctx.origin(key);
  origin.note = rule;
  ctx.set_origin(key, origin);
}

}  // namespace

void fill_derived_settings(CheckContext& ctx, ResolvedRun& run) {
  RunConfig& c = ctx.config();
  fill(ctx, "run.out_dir", c.run.out_dir, (std::filesystem::path("runs") / c.run.name).string(),
       "runs/<name>");
  const std::filesystem::path out_dir = c.run.out_dir;
  fill(ctx, "checkpoint.dir", c.checkpoint.dir, (out_dir / "checkpoints").string(),
       "<out_dir>/checkpoints");
  fill(ctx, "logging.metrics", c.logging.metrics, (out_dir / "metrics.jsonl").string(),
       "<out_dir>/metrics.jsonl");

  run.lr_schedule = c.optim.schedule == "constant" ? LrSchedule::constant : LrSchedule::cosine;
  run.device = c.device.kind == "cuda" ? DeviceKind::cuda : DeviceKind::cpu;
  run.comm_timeout = std::chrono::milliseconds(std::llround(c.comm.timeout_s * 1000.0));
}

}  // namespace trellis
