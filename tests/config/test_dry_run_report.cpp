#include <doctest/doctest.h>

#include <regex>

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
  // The key column is as wide as the longest key: any number of spaces.
  CHECK(std::regex_search(report, std::regex("tls +=  ?\"shm\"")));
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

TEST_CASE("the dry-run report shows each tensor rank's shards, read off the real family") {
  const std::filesystem::path work = trellis::test::fresh_work_dir("report-shards");
  trellis::test::make_fixtures(work / "fixtures");
  trellis::RunEnvironment env;
  env.plugin_path = CONFIG_TEST_PLUGIN_DIR;  // the real families come from the build's directory
  const trellis::ResolvedRun run = trellis::load_run_text(
      "[data]\ntrain = \"fixtures/tokens.bin\"\n[parallel]\ntensor_mode = \"2d\"\ntensor = 4\n"
      "[launch]\nnproc = 4\n[comm]\nbackend = \"test-comm\"\n[model]\nvocab_size = 512\n"
      "seq_len = 16\nlayers = 2\nheads = 4\nhidden = 32\n[train]\nmicro_batch = 2\n"
      "global_batch = 2\n",
      work / "run.toml", {}, env);
  const std::string report = trellis::format_dry_run(run);
  INFO(report);
  CHECK(report.find("Shards (layers 2d;") != std::string::npos);
  CHECK(report.find("hidden states between blocks and stages: [1, 16, 16] (whole: [2, 16, 32])") !=
        std::string::npos);
  // Rank 3 sits at grid row 1, column 1: out-block 1, in-block 1 of every weight.
  CHECK(report.find("[3, 16, 16] @ [0, 16, 16]") != std::string::npos);
  CHECK(report.find("[256, 16] @ [256, 16]") != std::string::npos);
  // The Shards section comes before the ranks, which stay last.
  CHECK(report.find("Shards") < report.find("Ranks"));
}

TEST_CASE("a family that cannot be built for the report is named, the report goes on") {
  const std::filesystem::path work = trellis::test::fresh_work_dir("report-no-shards");
  trellis::test::make_fixtures(work / "fixtures");
  trellis::RunEnvironment env;
  env.plugin_path = CONFIG_TEST_PLUGIN_DIR;
  const trellis::ResolvedRun run = trellis::load_run_text(
      "[data]\ntrain = \"fixtures/tokens.bin\"\n[parallel]\ntensor_mode = \"test-1d\"\n",
      work / "run.toml", {}, env);
  const std::string report = trellis::format_dry_run(run);
  CHECK(report.find("not available: the family could not be built here") != std::string::npos);
  CHECK(report.find("Ranks") != std::string::npos);
}

TEST_CASE("the dry-run report shows where the experts live under expert parallelism") {
  const std::filesystem::path work = trellis::test::fresh_work_dir("report-experts");
  trellis::test::make_fixtures(work / "fixtures");
  trellis::RunEnvironment env;
  env.plugin_path = CONFIG_TEST_PLUGIN_DIR;  // the real 1d family and dispatchers from the build
  const trellis::ResolvedRun run = trellis::load_run_text(
      "[data]\ntrain = \"fixtures/tokens.bin\"\n[launch]\nnproc = 4\n[comm]\nbackend = "
      "\"test-comm\"\n[parallel]\ndata = 4\nexpert = 2\n[model]\nvocab_size = 512\nseq_len = 16\n"
      "layers = 2\nheads = 4\nhidden = 32\nexperts = 4\n[train]\nmicro_batch = 1\n"
      "global_batch = 4\n",
      work / "run.toml", {}, env);
  const std::string report = trellis::format_dry_run(run);
  INFO(report);
  CHECK(report.find("d % 2 = 0: 0-1, d % 2 = 1: 2-3; tokens moved by the alltoall dispatcher") !=
        std::string::npos);
  // Expert rank 0's shard of the stacked experts: two of the four.
  CHECK(report.find("[2, 128, 32] @ [0, 0, 0]") != std::string::npos);
  CHECK(report.find("experts  expert group  expert-data group") != std::string::npos);
  // Rank 1: experts 2-3, expert group [0, 1], expert-data group [1, 3].
  CHECK(report.find("2-3      [0, 1]        [1, 3]") != std::string::npos);
}
