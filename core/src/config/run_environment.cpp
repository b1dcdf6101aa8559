#include "config/run_environment.h"

#include <map>
#include <memory>
#include <string_view>

extern char** environ;

namespace trellis {

std::optional<EnvSetting> launcher_world_size(const EnvLookup& lookup) {
  for (const char* name : {"TRELLIS_WORLD_SIZE", "OMPI_COMM_WORLD_SIZE", "SLURM_NTASKS"}) {
    if (const char* value = lookup(name)) return EnvSetting{name, value};
  }
  return std::nullopt;
}

namespace {

// A variable's value, with "" read as unset (as the readers of these variables always did).
std::optional<std::string> non_empty(const EnvLookup& lookup, const char* name) {
  const char* value = lookup(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

}  // namespace

EnvLookup RunEnvironment::lookup() const {
  if (variables_) return variables_;
  return [](const char*) -> const char* { return nullptr; };
}

RunEnvironment RunEnvironment::from_lookup(const EnvLookup& lookup) {
  RunEnvironment env;
  env.variables_ = lookup;
  env.launcher_world = launcher_world_size(lookup);
  if (const char* path = lookup("TRELLIS_PLUGIN_PATH")) env.plugin_path = path;
  if (const char* terminal = lookup("TRELLIS_OUTPUT_TERMINAL"))
    env.output_terminal = std::string_view(terminal) == "1";
  env.test_fault = non_empty(lookup, "TRELLIS_TEST_FAULT");
  env.flight_dir = non_empty(lookup, "TRELLIS_FLIGHT_DIR");
  return env;
}

RunEnvironment RunEnvironment::from_process() {
  // A copy, shared by the copies of the RunEnvironment: the values handed out stay valid
  // whatever the process does to its environment later.
  auto captured = std::make_shared<std::map<std::string, std::string, std::less<>>>();
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const std::size_t equals = text.find('=');
    if (equals == std::string_view::npos) continue;
    // getenv finds the first of two equal names; emplace keeps the first.
    captured->emplace(text.substr(0, equals), text.substr(equals + 1));
  }
  return from_lookup([captured](const char* name) -> const char* {
    const auto it = captured->find(std::string_view(name));
    return it == captured->end() ? nullptr : it->second.c_str();
  });
}

}  // namespace trellis
