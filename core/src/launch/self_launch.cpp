#include "launch/self_launch.h"

#include <filesystem>

#include "launch/backend_launch.h"
#include "launch/openblas_reexec.h"

namespace trellis {

std::optional<LaunchOptions> self_launch_options(const ResolvedRun& run,
                                                 const RunEnvironment& environment,
                                                 std::vector<std::string> command) {
  if (run.world_size <= 1 || environment.launcher_world) return std::nullopt;
  LaunchOptions options;
  options.nproc = run.world_size;
  // Through mpirun when a backend's descriptor asks for it ([comm] backend or one [comm.groups]
  // names). A run resolved without plugins (no registry) has no backend to ask, and starts its
  // ranks plainly.
  if (run.registry) apply_backend_launch_need(*run.registry, run.comm_backends(), options);
  options.timeout = run.comm_timeout;
  // The ranks' flight records go with the run's other outputs (docs/launching.md).
  options.flight_dir = (std::filesystem::path(run.config.run.out_dir) / "flight").string();
  options.name = "trellis-train";
  if (!command.empty()) {
    std::error_code ec;
    const std::filesystem::path reporter =
        std::filesystem::path(command[0]).parent_path() / "trellis-run";
    if (std::filesystem::is_regular_file(reporter, ec)) options.rank_reporter = reporter.string();
  }
  options.command = std::move(command);
  // The ranks start with the OpenBLAS kernels the run chooses, so none of them restarts for it.
  if (run.device == DeviceKind::cpu) {
    const BlasCoreSetting setting =
        BlasCoreSetting::parse(run.config.device.blas_core, "[device] blas_core");
    options.rank_environment = openblas_rank_environment(choose_openblas_core(
        setting, BlasCoreState::of_this_process(), CpuFeatures::of_this_cpu()));
  }
  return options;
}

}  // namespace trellis
