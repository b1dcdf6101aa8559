// What a run takes from its environment rather than its config file: the world size when a
// launcher started the process, and TRELLIS_PLUGIN_PATH. Tests build a RunEnvironment by hand
// instead of setting variables in their own process.
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

// Looks a variable up: returns null when unset. std::getenv in production.
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

  // The environment of this process.
  static RunEnvironment from_process();
  static RunEnvironment from_lookup(const EnvLookup& lookup);
};

}  // namespace trellis
