// One rank of `trellis-bench comm`: runs the sweep on each backend in turn, in the world its
// launcher made (or alone), and on rank 0 prints the tables and writes the JSON.
#pragma once

#include "comm_options.h"
#include "config/run_environment.h"
#include "launch/rank_environment.h"

namespace trellis::bench {

// Returns the process's exit code: 0, or 1 when a result was wrong. Throws InputError for
// arguments that only the world can judge (a root outside it, mpi-raw not under mpirun), and
// Error when a run fails.
// `process` is the environment captured at start (TRELLIS_PLUGIN_PATH), `environment` the rank's
// place in the world read from it.
int run_comm_rank(const CommBenchOptions& options, const RunEnvironment& process,
                  const RankEnvironment& environment);

// Throws InputError (PluginError) when a backend of `options` does not exist in this build.
void check_backends_exist(const CommBenchOptions& options, const RunEnvironment& process);

}  // namespace trellis::bench
