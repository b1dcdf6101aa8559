#include "config/run_environment.h"

#include <cstdlib>

namespace trellis {

std::optional<EnvSetting> launcher_world_size(const EnvLookup& lookup) {
  for (const char* name : {"TRELLIS_WORLD_SIZE", "OMPI_COMM_WORLD_SIZE", "SLURM_NTASKS"}) {
    if (const char* value = lookup(name)) return EnvSetting{name, value};
  }
  return std::nullopt;
}

RunEnvironment RunEnvironment::from_lookup(const EnvLookup& lookup) {
  RunEnvironment env;
  env.launcher_world = launcher_world_size(lookup);
  if (const char* path = lookup("TRELLIS_PLUGIN_PATH")) env.plugin_path = path;
  return env;
}

RunEnvironment RunEnvironment::from_process() {
  return from_lookup([](const char* name) -> const char* { return std::getenv(name); });
}

}  // namespace trellis
