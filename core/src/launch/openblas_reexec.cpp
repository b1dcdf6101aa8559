#include "launch/openblas_reexec.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "launch/process_environment.h"

namespace trellis {

std::map<std::string, std::optional<std::string>> openblas_rank_environment(
    const BlasCoreChoice& choice) {
  return {{openblas_env::kCoreType, choice.coretype}, {openblas_env::kPicked, choice.picked}};
}

OpenBlasInEffect use_openblas_core(const BlasCoreSetting& setting, char** argv) {
  OpenBlasInEffect e = OpenBlasInEffect::of_this_process(setting);
  if (environment_matches(e.choice, e.state) || e.state.reexecuted) return e;

  ProcessEnvironment env = ProcessEnvironment::current();
  for (const auto& [name, value] : openblas_rank_environment(e.choice)) {
    if (value) {
      env.set(name, *value);
    } else {
      env.unset(name);
    }
  }
  env.set(openblas_env::kReexec, std::to_string(::getpid()));
  std::vector<std::string> entries = env.entries();
  std::vector<char*> envp;
  for (std::string& entry : entries) envp.push_back(entry.data());
  envp.push_back(nullptr);
  // What was printed so far must not be printed twice, nor lost.
  std::fflush(nullptr);
  ::execve("/proc/self/exe", argv, envp.data());
  std::fprintf(stderr,
               "trellis: could not restart with OpenBLAS's %s kernels (execve /proc/self/exe: "
               "%s); going on with %s\n",
               e.choice.use.c_str(), std::strerror(errno), e.state.openblas.core.c_str());
  return e;
}

}  // namespace trellis
