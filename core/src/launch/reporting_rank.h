// The wrapper each rank runs in under trellis-run --mpirun (`trellis-run --report-exit -- CMD`).
//
// mpirun only tells its caller that the job failed; to say which rank failed and how, as it does
// for ranks it starts itself, trellis-run has mpirun start this wrapper, which runs CMD, forwards
// SIGINT/SIGTERM/SIGHUP to it, and when CMD fails on its own (not after a signal sent to stop it)
// records "rank R (pid P on HOST) exited with code C" in the store (failure_report.h) before
// ending the same way CMD did, so mpirun sees the same exit code or signal.
#pragma once

#include <string>
#include <vector>

namespace trellis {

// Runs `command`; returns its exit code (or, when it was killed by a signal, ends this process
// with the same signal). `name` prefixes messages.
int run_reporting_rank(const std::vector<std::string>& command, const std::string& name);

}  // namespace trellis
