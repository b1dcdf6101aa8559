// trellis-train launching itself: when it does (several ranks, no launcher), how (mpirun for a
// backend whose descriptor asks for it), and what the user sees when the ranks fail.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>

#include "device/openblas_core_choice.h"
#include "launch/self_launch.h"
#include "support/fixtures.h"
#include "support/process.h"

namespace fs = std::filesystem;
using namespace trellis;

namespace {

// The launch tests' backends: "test-store-barrier" (any launcher) and "test-mpirun-only" (its
// descriptor asks for mpirun).
std::shared_ptr<const PluginRegistry> comm_test_plugins() {
  return std::make_shared<const PluginRegistry>(
      PluginRegistry::discover({{COMM_TEST_PLUGIN_DIR, "test"}}));
}

ResolvedRun run_of(int world, const std::string& backend) {
  ResolvedRun run;
  run.world_size = world;
  run.config.comm.backend = backend;
  run.registry = comm_test_plugins();
  run.comm_timeout = std::chrono::seconds(42);
  return run;
}

}  // namespace

TEST_CASE("self-launch: only a run of several ranks that no launcher started") {
  const std::vector<std::string> command = {"/opt/trellis/bin/trellis-train", "run.toml"};
  CHECK_FALSE(self_launch_options(run_of(1, "test-store-barrier"), RunEnvironment{}, command));
  RunEnvironment launched;
  launched.launcher_world = EnvSetting{"OMPI_COMM_WORLD_SIZE", "4"};
  CHECK_FALSE(self_launch_options(run_of(4, "test-store-barrier"), launched, command));

  const std::optional<LaunchOptions> ucx =
      self_launch_options(run_of(4, "test-store-barrier"), {}, command);
  REQUIRE(ucx);
  CHECK(ucx->nproc == 4);
  CHECK(ucx->nnodes == 1);
  CHECK_FALSE(ucx->mpirun);
  CHECK(ucx->command == command);
  CHECK(ucx->name == "trellis-train");
  CHECK(ucx->timeout == std::chrono::seconds(42));
  CHECK(ucx->rank_reporter.empty());  // no trellis-run next to this made-up path

  const std::optional<LaunchOptions> mpi =
      self_launch_options(run_of(2, "test-mpirun-only"), {}, command);
  REQUIRE(mpi);
  CHECK(mpi->mpirun);
  CHECK(mpi->mpirun_reason.find("comm backend 'test-mpirun-only'") != std::string::npos);
  CHECK(mpi->mpirun_reason.find("needs its ranks started by mpirun") != std::string::npos);
}

TEST_CASE("a run whose backend needs mpirun, where there is none, says so") {
  const fs::path work = test::fresh_work_dir("self_launch_no_mpirun");
  test::make_fixtures(work / "fixtures");
  const fs::path config = work / "run.toml";
  test::write_text_file(config,
                        "[data]\ntrain = \"" + (work / "fixtures/tiny.txt").string() +
                            "\"\n[launch]\nnproc = 2\n[comm]\nbackend = \"test-mpirun-only\"\n"
                            "[parallel]\ntensor_mode = \"test-1d\"\n");
  const fs::path empty = work / "empty-path";
  fs::create_directories(empty);
  const test::ProcessResult r = test::run_trellis_train(
      {config.string()},
      {{"TRELLIS_PLUGIN_PATH", std::string(CONFIG_TEST_PLUGIN_DIR) + ":" + COMM_TEST_PLUGIN_DIR},
       {"PATH", empty.string()}});
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("comm backend 'test-mpirun-only'") != std::string::npos);
  CHECK(r.output.find("needs its ranks started by mpirun") != std::string::npos);
  CHECK(r.output.find("cannot run 'mpirun': not found on PATH") != std::string::npos);
}

TEST_CASE("self-launch finds the trellis-run next to trellis-train to wrap ranks under mpirun") {
  const std::optional<LaunchOptions> mpi =
      self_launch_options(run_of(2, "test-mpirun-only"), {}, {TRELLIS_TRAIN_BINARY, "run.toml"});
  REQUIRE(mpi);
  CHECK(fs::path(mpi->rank_reporter) == fs::path(TRELLIS_RUN_BINARY));
}

TEST_CASE("self-launched ranks start with the run's OpenBLAS kernels in their environment") {
  // The test-only fallback: this process's OPENBLAS_CORETYPE stands for OpenBLAS's own pick.
  const char* before = std::getenv("OPENBLAS_CORETYPE");
  const std::optional<std::string> users =
      before ? std::optional<std::string>(before) : std::nullopt;
  ::setenv("OPENBLAS_CORETYPE", "Prescott", 1);
  ::setenv("TRELLIS_TEST_OPENBLAS_FALLBACK", "1", 1);
  ::unsetenv("TRELLIS_OPENBLAS_PICKED");
  const std::vector<std::string> command = {"/opt/trellis/bin/trellis-train", "run.toml"};
  const trellis::OpenBlasCore* best = best_openblas_core(CpuFeatures::of_this_cpu());
  const std::optional<LaunchOptions> launch = self_launch_options(run_of(2, "test-store-barrier"), {}, command);
  REQUIRE(launch);
  const auto& env = launch->rank_environment;
  REQUIRE(env.count("OPENBLAS_CORETYPE") == 1);
  REQUIRE(env.count("TRELLIS_OPENBLAS_PICKED") == 1);
  if (best != nullptr) {
    CHECK(env.at("OPENBLAS_CORETYPE") == std::optional<std::string>(std::string(best->name)));
    CHECK(env.at("TRELLIS_OPENBLAS_PICKED") == std::optional<std::string>("Prescott"));
  }
  // "keep": OpenBLAS's own pick, which the test's fallback keeps in OPENBLAS_CORETYPE.
  ResolvedRun keep = run_of(2, "test-store-barrier");
  keep.config.device.blas_core = "keep";
  const auto kept = self_launch_options(keep, {}, command)->rank_environment;
  CHECK(kept.at("OPENBLAS_CORETYPE") == std::optional<std::string>("Prescott"));
  CHECK(kept.at("TRELLIS_OPENBLAS_PICKED") == std::nullopt);
  // A GPU run's ranks are left as they are.
  ResolvedRun gpu = run_of(2, "test-store-barrier");
  gpu.device = DeviceKind::cuda;
  CHECK(self_launch_options(gpu, {}, command)->rank_environment.empty());
  ::unsetenv("TRELLIS_TEST_OPENBLAS_FALLBACK");
  if (users) {
    ::setenv("OPENBLAS_CORETYPE", users->c_str(), 1);
  } else {
    ::unsetenv("OPENBLAS_CORETYPE");
  }
}

TEST_CASE("trellis-train with nproc = 2 launches two ranks and reports how they ended") {
  const fs::path work = test::fresh_work_dir("self_launch");
  test::make_fixtures(work / "fixtures");
  const fs::path config = work / "run.toml";
  test::write_text_file(config, "[data]\ntrain = \"" + (work / "fixtures/tiny.txt").string() +
                                    "\"\n[launch]\nnproc = 2\n[comm]\nbackend = \"test-comm\"\n"
                                    "[parallel]\ntensor_mode = \"test-1d\"\n");
  const test::ProcessResult r = test::run_trellis_train({config.string()});
  INFO(r.output);
  // Each rank fails to make its world (the test backend cannot communicate) with exit 1; the
  // launcher names the rank that failed first and passes its code on.
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("test plugin: not for running") != std::string::npos);
  CHECK(r.output.find("trellis-train: rank ") != std::string::npos);
  CHECK(r.output.find(") exited with code 1") != std::string::npos);

  // --dry-run never launches.
  const test::ProcessResult dry = test::run_trellis_train({config.string(), "--dry-run"});
  CHECK(dry.exit_code == 0);
  CHECK(dry.output.find("exited with code") == std::string::npos);
}
