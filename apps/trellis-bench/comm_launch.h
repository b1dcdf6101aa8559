// `trellis-bench comm --nproc N` outside any launcher: launches N ranks of itself once per
// backend, through core's launcher (launch/launcher.h) as trellis-train does — through mpirun
// for a backend whose descriptor asks for it (launch/backend_launch.h) and for mpi-raw, which
// calls MPI itself — and merges the JSON the launches wrote into the one file asked for.
#pragma once

#include <string>

#include "comm_options.h"

namespace trellis::bench {

// `self` is this executable. Returns the exit code: 0 when every launch succeeded, else the
// first failing launch's code (each backend is still run). Must be called before the process
// starts any thread (the launcher reads signals from a signalfd).
int launch_comm_bench(const CommBenchOptions& options, const std::string& self);

}  // namespace trellis::bench
