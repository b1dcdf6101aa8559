// trellis-train launching itself: when it does (several ranks, no launcher), how (mpirun for the
// mpi backend), and what the user sees when the ranks fail.
#include <doctest/doctest.h>

#include <filesystem>

#include "launch/self_launch.h"
#include "support/fixtures.h"
#include "support/process.h"

namespace fs = std::filesystem;
using namespace trellis;

namespace {

ResolvedRun run_of(int world, const std::string& backend) {
  ResolvedRun run;
  run.world_size = world;
  run.config.comm.backend = backend;
  run.comm_timeout = std::chrono::seconds(42);
  return run;
}

}  // namespace

TEST_CASE("self-launch: only a run of several ranks that no launcher started") {
  const std::vector<std::string> command = {"/opt/trellis/bin/trellis-train", "run.toml"};
  CHECK_FALSE(self_launch_options(run_of(1, "ucx"), RunEnvironment{}, command));
  RunEnvironment launched;
  launched.launcher_world = EnvSetting{"OMPI_COMM_WORLD_SIZE", "4"};
  CHECK_FALSE(self_launch_options(run_of(4, "ucx"), launched, command));

  const std::optional<LaunchOptions> ucx = self_launch_options(run_of(4, "ucx"), {}, command);
  REQUIRE(ucx);
  CHECK(ucx->nproc == 4);
  CHECK(ucx->nnodes == 1);
  CHECK_FALSE(ucx->mpirun);
  CHECK(ucx->command == command);
  CHECK(ucx->name == "trellis-train");
  CHECK(ucx->timeout == std::chrono::seconds(42));
  CHECK(ucx->rank_reporter.empty());  // no trellis-run next to this made-up path

  const std::optional<LaunchOptions> mpi = self_launch_options(run_of(2, "mpi"), {}, command);
  REQUIRE(mpi);
  CHECK(mpi->mpirun);
}

TEST_CASE("self-launch finds the trellis-run next to trellis-train to wrap ranks under mpirun") {
  const std::optional<LaunchOptions> mpi =
      self_launch_options(run_of(2, "mpi"), {}, {TRELLIS_TRAIN_BINARY, "run.toml"});
  REQUIRE(mpi);
  CHECK(fs::path(mpi->rank_reporter) == fs::path(TRELLIS_RUN_BINARY));
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
