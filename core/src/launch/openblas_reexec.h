// Putting the OpenBLAS kernel choice (device/openblas_core_choice.h) into effect.
//
// OpenBLAS picks its kernels when it is loaded, which for a Trellis program is before main().
// A launcher therefore writes the choice into the environment its ranks start with
// (openblas_rank_environment, LaunchOptions::rank_environment), and a process that finds its
// environment is not the chosen one — a rank started by mpirun or srun, a program run directly
// — re-executes itself once with it (use_openblas_core): the same executable, arguments and
// environment, with OPENBLAS_CORETYPE and TRELLIS_OPENBLAS_PICKED set as chosen and
// TRELLIS_OPENBLAS_REEXEC=<its pid>, which stops a second restart whatever happens.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "device/openblas_core_choice.h"

namespace trellis {

// The variables a rank's environment needs for `choice` (nullopt: unset them).
std::map<std::string, std::optional<std::string>> openblas_rank_environment(
    const BlasCoreChoice& choice);

// Chooses the kernels for `setting` and, when this process's environment does not give them
// and it has not restarted for them already, re-executes /proc/self/exe with `argv` and the
// chosen environment: then it does not return. Otherwise returns what is in effect (a failed
// restart is reported on stderr, and the process goes on with what it loaded). Throws
// InputError when `setting` names kernels this CPU cannot run.
OpenBlasInEffect use_openblas_core(const BlasCoreSetting& setting, char** argv);

}  // namespace trellis
