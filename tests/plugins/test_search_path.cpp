// The search path: TRELLIS_PLUGIN_PATH, then [plugins] paths, then the install's plugin directory.
#include "registry_test_support.h"

namespace trellis::test {

namespace {

std::filesystem::path canonical_or_same(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::path canonical = std::filesystem::weakly_canonical(path, ec);
  return ec ? path : canonical;
}

}  // namespace

TEST_CASE("the search path is the environment's entries, then the config's, then the install's") {
  const std::vector<PluginSearchDir> path =
      PluginRegistry::search_path("/env/one::/env/two:", {"/config/one", "", "/config/two"});
  REQUIRE(path.size() == 5);
  CHECK(path[0].path == "/env/one");
  CHECK(path[0].origin == "TRELLIS_PLUGIN_PATH");
  CHECK(path[1].path == "/env/two");
  CHECK(path[1].origin == "TRELLIS_PLUGIN_PATH");
  CHECK(path[2].path == "/config/one");
  CHECK(path[2].origin == "[plugins] paths");
  CHECK(path[3].path == "/config/two");
  CHECK(path[3].origin == "[plugins] paths");
  CHECK(path[4].path == PluginRegistry::installed_plugin_dir());
  CHECK(path[4].origin == "install directory");
}

TEST_CASE("without TRELLIS_PLUGIN_PATH the search path is the config's entries and the install's") {
  CHECK(PluginRegistry::search_path(nullptr, {}).size() == 1);
  CHECK(PluginRegistry::search_path("", {}).size() == 1);
  const std::vector<PluginSearchDir> path = PluginRegistry::search_path(nullptr, {"/config"});
  REQUIRE(path.size() == 2);
  CHECK(path[0].origin == "[plugins] paths");
  CHECK(path[1].origin == "install directory");
}

TEST_CASE("the installed plugin directory is trellis/plugins next to libtrellis_sdk") {
  // In the build tree that is build/lib/trellis/plugins, where in-tree plugins are built.
  CHECK(canonical_or_same(PluginRegistry::installed_plugin_dir()) ==
        canonical_or_same(TRELLIS_TEST_INSTALLED_PLUGIN_DIR));
}

TEST_CASE("discovery along a search path records where each plugin came from") {
  const PluginRegistry registry = PluginRegistry::discover(
      PluginRegistry::search_path(dup_a_dir().c_str(), {good_dir().string()}));
  CHECK(registry.find(PluginKind::schedule, "twin").origin == "TRELLIS_PLUGIN_PATH");
  CHECK(registry.find(PluginKind::comm, "solo").origin == "[plugins] paths");
  CHECK(registry.searched().back().origin == "install directory");
}

}  // namespace trellis::test
