#include <doctest/doctest.h>

#include "config/config_loader.h"
#include "config/dry_run_report.h"
#include "support/fixtures.h"

using trellis::format_rank_group;

TEST_CASE("rank groups print short when regular") {
  CHECK(format_rank_group({0}) == "[0]");
  CHECK(format_rank_group({0, 1}) == "[0, 1]");
  CHECK(format_rank_group({0, 4, 8}) == "[0, 4, 8]");
  CHECK(format_rank_group({0, 1, 2, 3, 4, 5, 6, 7}) == "[0..7]");
  CHECK(format_rank_group({3, 19, 35, 51}) == "[3, 19..51]");
  CHECK(format_rank_group({0, 1, 5, 6}) == "[0, 1, 5, 6]");
}

TEST_CASE("the dry-run report lists keys, layout, plugins and ranks") {
  const std::filesystem::path work = trellis::test::fresh_work_dir("report");
  trellis::test::make_fixtures(work / "fixtures");
  trellis::RunEnvironment env;
  env.plugin_path = CONFIG_TEST_PLUGIN_DIR;
  const trellis::ResolvedRun run = trellis::load_run_text(
      "[data]\ntrain = \"fixtures/tokens.bin\"\n[parallel]\ntensor_mode = \"test-1d\"\n"
      "schedule = \"test-interleaved\"\npipeline = 2\nvirtual_stages = 2\ntensor = 2\n"
      "[launch]\nnproc = 8\n[comm]\nbackend = \"test-comm\"\n[comm.test-comm]\ntls = \"shm\"\n",
      work / "run.toml", {"optim.lr=1e-3"}, env);
  const std::string report = trellis::format_dry_run(run);
  INFO(report);
  CHECK(report.find("  [comm.test-comm]\n") != std::string::npos);
  CHECK(report.find("tls             = \"shm\"") != std::string::npos);
  CHECK(report.find("run.toml:14\n") != std::string::npos);
  CHECK(report.find("= 0.001") != std::string::npos);
  CHECK(report.find("--set optim.lr=1e-3") != std::string::npos);
  CHECK(report.find("3 of 12 (2 virtual chunks of 3 layers each)") == std::string::npos);
  CHECK(report.find("6 of 12 (2 virtual chunks of 3 layers each)") != std::string::npos);
  CHECK(report.find("llm.c token file, 2000 tokens") != std::string::npos);
  CHECK(report.find("schedule  test-interleaved  0.0.1") != std::string::npos);
  // 8 rank lines after the header.
  const std::size_t ranks = report.find("Ranks");
  REQUIRE(ranks != std::string::npos);
  CHECK(std::count(report.begin() + static_cast<std::ptrdiff_t>(ranks), report.end(), '\n') == 10);
}
