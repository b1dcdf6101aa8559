// Discovery: what a search over directories and files finds, skips and records.
#include "registry_test_support.h"

namespace trellis::test {

TEST_CASE("discovery lists each plugin of a directory with its descriptor's fields") {
  const PluginRegistry registry = PluginRegistry::discover({from_env(good_dir())});
  REQUIRE(registry.plugins().size() == 3);

  const PluginInfo* solo = listed(registry, PluginKind::comm, "solo");
  REQUIRE(solo != nullptr);
  CHECK(solo->version == "1.2.3");
  CHECK(solo->summary == "one-rank communicator for tests");
  CHECK(solo->file == plugin_file(good_dir(), "comm", "solo"));
  CHECK(solo->origin == "TRELLIS_PLUGIN_PATH");
  CHECK(solo->abi.major == kAbiVersion.major);
  CHECK(solo->abi.minor == kAbiVersion.minor);
  CHECK(solo->problem.empty());

  const PluginInfo* layers = listed(registry, PluginKind::layers, "grid-check");
  REQUIRE(layers != nullptr);
  CHECK(layers->version == "0.4.0");
  CHECK(layers->file == plugin_file(good_dir(), "layers", "grid-check"));
  CHECK(layers->problem.empty());

  const PluginInfo* schedule = listed(registry, PluginKind::schedule, "fill-drain");
  REQUIRE(schedule != nullptr);
  CHECK(schedule->version == "2.0.1");
  CHECK(schedule->summary == "all forwards, then all backwards");
  CHECK(schedule->file == plugin_file(good_dir(), "schedule", "fill-drain"));
  CHECK(schedule->problem.empty());
}

TEST_CASE("discovery lists a directory's plugins in file-name order") {
  const PluginRegistry registry = PluginRegistry::discover({from_env(good_dir())});
  REQUIRE(registry.plugins().size() == 3);
  CHECK(registry.plugins()[0].name == "solo");        // libtrellis_comm_solo.so
  CHECK(registry.plugins()[1].name == "grid-check");  // libtrellis_layers_grid-check.so
  CHECK(registry.plugins()[2].name == "fill-drain");  // libtrellis_schedule_fill-drain.so
}

TEST_CASE("files in a directory that are not plugins are skipped with the reason") {
  const PluginRegistry registry = PluginRegistry::discover({from_env(good_dir())});
  REQUIRE(registry.skipped().size() == 2);
  const SkippedFile& junk = registry.skipped()[0];
  CHECK(junk.file == good_dir() / "junk.so");
  CHECK(contains(junk.reason, "not a shared library"));
  const SkippedFile& library = registry.skipped()[1];
  CHECK(library.file == good_dir() / "libnot_a_plugin.so");
  CHECK(library.reason == "not a Trellis plugin: exports no trellis_plugin descriptor");
}

TEST_CASE("a missing search directory is recorded and does not stop discovery") {
  const PluginRegistry registry =
      PluginRegistry::discover({from_config(missing_dir()), from_env(good_dir())});
  REQUIRE(registry.searched().size() == 2);
  CHECK(registry.searched()[0].path == missing_dir());
  CHECK(registry.searched()[0].origin == "[plugins] paths");
  CHECK(registry.searched()[1].path == good_dir());
  CHECK(registry.plugins().size() == 3);
}

TEST_CASE("a plugin file named directly is discovered on its own") {
  const std::filesystem::path file = plugin_file(good_dir(), "schedule", "fill-drain");
  const PluginRegistry registry = PluginRegistry::discover({from_env(file)});
  REQUIRE(registry.plugins().size() == 1);
  CHECK(registry.plugins()[0].file == file);
  CHECK(registry.skipped().empty());
}

TEST_CASE("a directory and a file in it named together give each plugin once") {
  const std::filesystem::path file = plugin_file(dup_a_dir(), "schedule", "twin-a");
  const PluginRegistry registry = PluginRegistry::discover(
      {from_env(dup_a_dir()), from_config(file), from_config(dup_a_dir() / "." / "")});
  CHECK(registry.plugins().size() == 1);
  CHECK(registry.find(PluginKind::schedule, "twin").file == dup_a_dir() / file.filename());
}

TEST_CASE("a shared library named directly that is not a plugin is an error naming it") {
  const std::filesystem::path file = good_dir() / "libnot_a_plugin.so";
  const std::string message = plugin_error_of([&] { PluginRegistry::discover({from_env(file)}); });
  CHECK(contains(message, file.string()));
  CHECK(contains(message, "TRELLIS_PLUGIN_PATH"));
  CHECK(contains(message, "not a Trellis plugin"));
}

TEST_CASE("a file named directly that is not a shared library is an error naming it") {
  const std::filesystem::path file = good_dir() / "junk.so";
  const std::string message =
      plugin_error_of([&] { PluginRegistry::discover({from_config(file)}); });
  CHECK(contains(message, file.string()));
  CHECK(contains(message, "[plugins] paths"));
  CHECK(contains(message, "not a shared library"));
}

TEST_CASE("a file named directly is an error even when its directory, searched first, skipped it") {
  const std::filesystem::path file = good_dir() / "libnot_a_plugin.so";
  const std::string message = plugin_error_of([&] {
    PluginRegistry::discover({from_env(good_dir()), from_config(file)});
  });
  CHECK(contains(message, file.string() + " (named in [plugins] paths)"));
  CHECK(contains(message, "not a Trellis plugin"));
}

TEST_CASE("a plugin the dynamic loader refuses is skipped with the loader's message") {
  const PluginRegistry registry = PluginRegistry::discover({from_env(unloadable_dir())});
  CHECK(registry.plugins().empty());
  REQUIRE(registry.skipped().size() == 1);
  CHECK(registry.skipped()[0].file == plugin_file(unloadable_dir(), "schedule", "unresolved"));
  CHECK(contains(registry.skipped()[0].reason, "could not be loaded"));
  CHECK(contains(registry.skipped()[0].reason, "trellis_test_function_nobody_defines"));
}

TEST_CASE("a plugin the dynamic loader refuses is an error when named directly") {
  const std::filesystem::path file = plugin_file(unloadable_dir(), "schedule", "unresolved");
  const std::string message = plugin_error_of([&] { PluginRegistry::discover({from_env(file)}); });
  CHECK(contains(message, file.string()));
  CHECK(contains(message, "trellis_test_function_nobody_defines"));
}

TEST_CASE("a registry can be moved, and the moved-from one is empty") {
  PluginRegistry registry = PluginRegistry::discover({from_env(good_dir())});
  PluginRegistry moved = std::move(registry);
  CHECK(moved.plugins().size() == 3);
  CHECK(moved.find(PluginKind::comm, "solo").name == "solo");
  CHECK(registry.plugins().empty());  // NOLINT(bugprone-use-after-move): what is tested

  PluginRegistry assigned = PluginRegistry::discover({from_env(unloadable_dir())});
  assigned = std::move(moved);
  CHECK(assigned.plugins().size() == 3);
  CHECK_THROWS_AS(moved.find(PluginKind::comm, "solo"), Error);  // NOLINT(bugprone-use-after-move)
}

}  // namespace trellis::test
