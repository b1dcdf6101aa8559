// Self-launch: how trellis-train starts the ranks of a run itself when it needs several and no
// launcher started it (DESIGN.md, "Launch"): through the same launcher as trellis-run, with one
// rank per process of the world, and through mpirun when the run's backend says it needs it
// (PluginDescriptor::launch: MPI needs its own launcher to wire the ranks up).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/resolved_run.h"
#include "config/run_environment.h"
#include "launch/launcher.h"

namespace trellis {

// The launch to make, or nullopt when this process should train itself: a world of one rank, or
// a process some launcher started (`environment.launcher_world`). `command` is what each rank runs
// (this executable's path and its arguments); a trellis-run next to it wraps ranks under mpirun.
// On the cpu device the ranks' environment carries the run's OpenBLAS kernel choice
// ([device] blas_core, launch/openblas_reexec.h).
std::optional<LaunchOptions> self_launch_options(const ResolvedRun& run,
                                                 const RunEnvironment& environment,
                                                 std::vector<std::string> command);

}  // namespace trellis
