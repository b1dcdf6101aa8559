#include "launch/self_launch.h"

#include <filesystem>

namespace trellis {

std::optional<LaunchOptions> self_launch_options(const ResolvedRun& run,
                                                 const RunEnvironment& environment,
                                                 std::vector<std::string> command) {
  if (run.world_size <= 1 || environment.launcher_world) return std::nullopt;
  LaunchOptions options;
  options.nproc = run.world_size;
  options.mpirun = run.config.comm.backend == "mpi";
  options.timeout = run.comm_timeout;
  options.name = "trellis-train";
  if (!command.empty()) {
    std::error_code ec;
    const std::filesystem::path reporter =
        std::filesystem::path(command[0]).parent_path() / "trellis-run";
    if (std::filesystem::is_regular_file(reporter, ec)) options.rank_reporter = reporter.string();
  }
  options.command = std::move(command);
  return options;
}

}  // namespace trellis
