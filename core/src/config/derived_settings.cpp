// Settings in the typed form the trainer reads, derived once the values are known to be valid.
#include <cmath>

#include "config/config_check.h"

namespace trellis {

void fill_derived_settings(CheckContext& ctx, ResolvedRun& run) {
  const RunConfig& c = ctx.config();
  run.lr_schedule = c.optim.schedule == "constant" ? LrSchedule::constant : LrSchedule::cosine;
  run.device = c.device.kind == "cuda" ? DeviceKind::cuda : DeviceKind::cpu;
  run.comm_timeout = std::chrono::milliseconds(std::llround(c.comm.timeout_s * 1000.0));
}

}  // namespace trellis
