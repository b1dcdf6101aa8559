#include "launch/process_environment.h"

// The whole environment is copied to be passed on to the children a launcher starts: writing,
// not reading a setting of the run (those come from config/run_environment.h).
extern char** environ;

namespace trellis {

ProcessEnvironment ProcessEnvironment::current() {
  ProcessEnvironment env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    const std::size_t eq = entry.find('=');
    if (eq != std::string::npos) env.vars_[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  return env;
}

std::optional<std::string> ProcessEnvironment::get(const std::string& name) const {
  auto it = vars_.find(name);
  if (it == vars_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> ProcessEnvironment::entries() const {
  std::vector<std::string> out;
  out.reserve(vars_.size());
  for (const auto& [name, value] : vars_) out.push_back(name + "=" + value);
  return out;
}

}  // namespace trellis
