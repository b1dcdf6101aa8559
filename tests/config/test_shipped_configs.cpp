// The configs we ship (configs/quickstart.toml, configs/examples/) must load. The layer family
// and backend they name are replaced with --set by test plugins that check the same things (the
// real ones are not what these tests are about); the schedules are the real ones, so their plans
// are simulated as in a user's run.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "config/config_loader.h"
#include "config/config_reader.h"

namespace fs = std::filesystem;

namespace {

std::vector<fs::path> shipped_configs() {
  const fs::path root = fs::path(TRELLIS_SOURCE_DIR) / "configs";
  std::vector<fs::path> files = {root / "quickstart.toml"};
  for (const auto& entry : fs::directory_iterator(root / "examples")) {
    if (entry.path().extension() == ".toml") files.push_back(entry.path());
  }
  std::sort(files.begin() + 1, files.end());
  return files;
}

}  // namespace

TEST_CASE("shipped configs load, with test plugins standing in for the real ones") {
  const std::map<std::string, std::string> test_family = {
      {"1d", "test-1d"}, {"seq", "test-seq"}, {"2d", "test-2d"}};
  trellis::RunEnvironment env;
  env.plugin_path = CONFIG_TEST_PLUGIN_DIR;

  const std::vector<fs::path> files = shipped_configs();
  CHECK(files.size() >= 5);
  for (const fs::path& file : files) {
    INFO(file.string());
    trellis::ProblemList problems;
    const trellis::ReadConfig read = trellis::read_config(file, {}, problems);
    REQUIRE(problems.empty());
    // The test families run no experts: a mixture of experts keeps its real family.
    const std::string family = read.config.model.experts > 0
                                   ? read.config.parallel.tensor_mode
                                   : test_family.at(read.config.parallel.tensor_mode);
    try {
      const trellis::ResolvedRun run = trellis::load_run(
          file, {"parallel.tensor_mode=" + family, "comm.backend=test-comm"}, env);
      CHECK(run.train.path.filename() == "quickstart.txt");
      CHECK(run.world_size == read.config.launch.nproc);
    } catch (const trellis::ConfigError& e) {
      FAIL(e.what());
    }
  }
}

// The real layer families (found in the build's plugin directory) accept the examples as shipped:
// their own checks (heads, sequence and grid divisibility) pass.
TEST_CASE("shipped configs pass the real layer families' checks") {
  trellis::RunEnvironment env;
  env.plugin_path = CONFIG_TEST_PLUGIN_DIR;  // test-comm; the families come from the build
  for (const fs::path& file : shipped_configs()) {
    INFO(file.string());
    try {
      const trellis::ResolvedRun run = trellis::load_run(file, {"comm.backend=test-comm"}, env);
      const auto layers = std::find_if(run.plugins.begin(), run.plugins.end(), [](const auto& use) {
        return use.kind == trellis::PluginKind::layers;
      });
      REQUIRE(layers != run.plugins.end());
      REQUIRE(layers->info);
      CHECK(layers->info->file.parent_path().filename() == "plugins");
    } catch (const trellis::ConfigError& e) {
      FAIL(e.what());
    }
  }
}
