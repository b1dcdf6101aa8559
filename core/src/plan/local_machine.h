// A cluster description of the machine trellis-plan runs on, for when no --cluster is given:
// one node, a device per core, the sgemm peak of one core found as trellis-train finds its MFU
// reference (the calibration of one thread, else a probe: train/mfu_peak.h), the memory, and a
// copy's bandwidth. The links are guesses (shared memory:
// 5 us, half the copy bandwidth) and the efficiencies 1: calibrate it for real figures.
#pragma once

#include "plan/cluster_spec.h"

namespace trellis::plan {

ClusterSpec probe_local_machine();

}  // namespace trellis::plan
