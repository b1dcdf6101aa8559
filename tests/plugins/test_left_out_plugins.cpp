// The plugins Trellis ships that a build leaves out (a backend whose library was not found):
// CMake hands their names and reasons to core, so a config naming one is told why it is missing,
// and a run that does not use it (one rank naming backend "mpi") runs on a build without it.
#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>

#include "plugin/left_out_plugins.h"
#include "registry_test_support.h"

namespace trellis::test {

namespace {

struct ShippedPlugin {
  PluginKind kind;
  std::string name;
  std::string folder;
};

PluginKind kind_of(const std::string& word) {
  if (word == "comm") return PluginKind::comm;
  if (word == "layers") return PluginKind::layers;
  REQUIRE(word == "schedule");
  return PluginKind::schedule;
}

// Every trellis_add_plugin(NAME n KIND k ...) in the source tree's plugin folders.
std::vector<ShippedPlugin> shipped_plugins() {
  const std::regex add_plugin(R"(trellis_add_plugin\(NAME\s+(\S+)\s+KIND\s+(\S+))");
  std::vector<ShippedPlugin> out;
  for (const char* part : {"backends", "layers", "schedules"}) {
    for (const auto& entry :
         std::filesystem::directory_iterator(std::filesystem::path(TRELLIS_SOURCE_DIR) / part)) {
      std::ifstream in(entry.path() / "CMakeLists.txt");
      if (!in) continue;
      std::stringstream text;
      text << in.rdbuf();
      const std::string cmake = text.str();
      for (std::sregex_iterator it(cmake.begin(), cmake.end(), add_plugin), end; it != end; ++it) {
        out.push_back({kind_of((*it)[2]), (*it)[1], entry.path().string()});
      }
    }
  }
  return out;
}

}  // namespace

TEST_CASE(
    "every plugin Trellis ships is either built or listed as left out of the build, with why") {
  const PluginRegistry registry =
      PluginRegistry::discover({{TRELLIS_TEST_INSTALLED_PLUGIN_DIR, "install"}});
  const std::vector<ShippedPlugin> shipped = shipped_plugins();
  CHECK(shipped.size() >= 10);  // 3 backends, 3 layer families, 5 schedules
  for (const ShippedPlugin& p : shipped) {
    INFO(plugin_kind_name(p.kind), " plugin '", p.name, "' of ", p.folder);
    const bool built = listed(registry, p.kind, p.name) != nullptr;
    const auto* left_out = plugin_detail::left_out_plugin(p.kind, p.name);
    CHECK(built != (left_out != nullptr));
    if (left_out) CHECK_FALSE(left_out->reason.empty());
  }
  // Nothing else is on the list: only a plugin Trellis ships can be left out of its build.
  for (const auto& left_out : plugin_detail::plugins_left_out_of_build()) {
    INFO("left out: ", left_out.name);
    CHECK(std::any_of(shipped.begin(), shipped.end(), [&](const ShippedPlugin& p) {
      return p.kind == left_out.kind && p.name == left_out.name;
    }));
  }
}

TEST_CASE("asking for a plugin this build left out says why it is missing") {
  const PluginRegistry registry =
      PluginRegistry::discover({{TRELLIS_TEST_INSTALLED_PLUGIN_DIR, "install"}});
  const auto left_out = plugin_detail::plugins_left_out_of_build();
  if (left_out.empty()) {
    MESSAGE("this build has every plugin Trellis ships; nothing is left out to ask for");
    return;
  }
  for (const auto& plugin : left_out) {
    const std::string message = plugin_error_of([&] { registry.find(plugin.kind, plugin.name); });
    INFO(message);
    CHECK(contains(message, "this build left it out: " + std::string(plugin.reason)));
  }
}

}  // namespace trellis::test
