// What a run takes from its environment rather than its config file. The environment is read
// once, when a program starts (RunEnvironment::from_process(), the one place in core and the
// apps that reads variables of the process's own settings), and the RunEnvironment is passed
// down to whatever needs a variable: the config loader, the trainer, the rank's place in the
// world. Tests build a RunEnvironment by hand instead of setting variables in their own process.
//
// Still read elsewhere, each for a reason of its own:
//   - launch/process_environment: a launcher copies its whole environment to give its children;
//     it passes the environment on rather than reading a setting from it.
//   - device/openblas_core_choice: OPENBLAS_CORETYPE, TRELLIS_OPENBLAS_PICKED, _REEXEC and the
//     test-only TRELLIS_TEST_OPENBLAS_FALLBACK describe how OpenBLAS was loaded into this very
//     process, not how a run is set; launchers and trellis-bench read them too, when they decide
//     whether a process restarts.
//   - device/peak_calibration: XDG_CACHE_HOME and HOME locate the per-user calibration cache,
//     which trellis-plan and trellis-bench read outside any run.
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace trellis {

// An environment variable and its value, as found.
struct EnvSetting {
  std::string name;
  std::string value;

  std::string text() const { return name + "=" + value; }  // "TRELLIS_WORLD_SIZE=8"
};

// Looks a variable up: returns null when unset.
using EnvLookup = std::function<const char*(const char*)>;

// The world size a launcher gave this process: TRELLIS_WORLD_SIZE (trellis-run), else
// OMPI_COMM_WORLD_SIZE (Open MPI's mpirun), else SLURM_NTASKS (srun). The value is returned as
// found; the loader checks it is a positive integer.
std::optional<EnvSetting> launcher_world_size(const EnvLookup& lookup);

struct RunEnvironment {
  // Set when running under a launcher; then [launch] nproc does not decide the world size.
  std::optional<EnvSetting> launcher_world;
  // TRELLIS_PLUGIN_PATH: directories or plugin files, ':'-separated; searched before
  // [plugins] paths.
  std::optional<std::string> plugin_path;
  // TRELLIS_OUTPUT_TERMINAL (launch/rank_environment.h): set by trellis-run, whether its own
  // output is a terminal; the progress view trusts it over isatty() (mpirun gives its ranks a
  // pseudo-terminal whatever it writes to).
  std::optional<bool> output_terminal;
  // TRELLIS_TEST_FAULT (train/test_faults.h): a crash the tests ask for; unset in real runs.
  std::optional<std::string> test_fault;
  // TRELLIS_FLIGHT_DIR (set by trellis-run for its ranks): where a rank writes its flight record
  // (comm/flight_log.h) when it fails or is signalled; unset: <out_dir>/flight.
  std::optional<std::string> flight_dir;

  // The environment as captured, for the parts that read a launcher's family of variables
  // (launch/rank_environment.h: trellis-run's, Open MPI's and Slurm's). Every variable is null
  // in a RunEnvironment built by hand.
  EnvLookup lookup() const;

  // The environment of this process, captured now: later changes to it are not seen.
  static RunEnvironment from_process();
  static RunEnvironment from_lookup(const EnvLookup& lookup);

 private:
  EnvLookup variables_;
};

}  // namespace trellis
