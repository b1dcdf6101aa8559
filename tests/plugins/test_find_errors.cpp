// Asking for a plugin by kind and name: a name two files provide, a name of another kind, and a
// name nobody provides are errors that say what exists and where the search looked.
#include "registry_test_support.h"

namespace trellis::test {

TEST_CASE("two files providing the same kind and name are an error naming both") {
  const PluginRegistry registry =
      PluginRegistry::discover({from_env(dup_a_dir()), from_config(dup_b_dir())});
  CHECK(registry.plugins().size() == 2);  // both listed; asking for them is the error
  const std::string message = plugin_error_of([&] { registry.find(PluginKind::schedule, "twin"); });
  CHECK(contains(message, "'twin'"));
  CHECK(contains(
      message, plugin_file(dup_a_dir(), "schedule", "twin-a").string() + " (TRELLIS_PLUGIN_PATH)"));
  CHECK(contains(message,
                 plugin_file(dup_b_dir(), "schedule", "twin-b").string() + " ([plugins] paths)"));
  CHECK(contains(message, "remove one of them"));
  CHECK_THROWS_AS(registry.make_schedule("twin", ScheduleInit{}), PluginError);
}

TEST_CASE("a name that exists only as another kind is an error saying which kind it is") {
  const PluginRegistry registry = PluginRegistry::discover({from_env(good_dir())});
  const std::string message =
      plugin_error_of([&] { registry.make_schedule("solo", ScheduleInit{}); });
  CHECK(contains(message, "'solo' is a comm plugin (" +
                              plugin_file(good_dir(), "comm", "solo").string() +
                              "), not a schedule plugin"));
  CHECK(contains(message, "fill-drain"));  // what the user could name instead
}

TEST_CASE("an unknown name lists what exists, where the search looked and what it skipped") {
  const PluginRegistry registry =
      PluginRegistry::discover({from_env(good_dir()), from_config(missing_dir())});
  const std::string message =
      plugin_error_of([&] { registry.find(PluginKind::schedule, "no-such-schedule"); });
  INFO(message);
  CHECK(contains(message, "no schedule plugin named 'no-such-schedule'"));
  CHECK_FALSE(contains(message, "Did you mean"));
  CHECK(contains(message, "fill-drain"));
  CHECK(contains(message, plugin_file(good_dir(), "schedule", "fill-drain").string()));
  CHECK_FALSE(contains(message, "grid-check"));  // another kind
  CHECK(contains(message, good_dir().string() + "  (TRELLIS_PLUGIN_PATH)"));
  CHECK(contains(message, missing_dir().string() + "  ([plugins] paths; does not exist)"));
  CHECK(contains(message, (good_dir() / "junk.so").string() + ": not a shared library"));
  CHECK(contains(message, "libnot_a_plugin.so: not a Trellis plugin"));
}

TEST_CASE("an unknown name close to a known one gets a suggestion") {
  const PluginRegistry registry = PluginRegistry::discover({from_env(good_dir())});
  CHECK(contains(plugin_error_of([&] { registry.find(PluginKind::schedule, "fill-drian"); }),
                 "Did you mean 'fill-drain'?"));
  CHECK(contains(plugin_error_of([&] { registry.find(PluginKind::comm, "sol"); }),
                 "Did you mean 'solo'?"));
  CHECK(contains(plugin_error_of([&] { registry.find(PluginKind::layers, "gridcheck"); }),
                 "Did you mean 'grid-check'?"));
}

TEST_CASE("an unknown name when no plugin of that kind exists says so") {
  const PluginRegistry registry = PluginRegistry::discover({from_env(dup_a_dir())});
  const std::string message = plugin_error_of([&] { registry.make_comm("mpi", CommInit{}); });
  CHECK(contains(message, "no comm plugin named 'mpi'"));
  CHECK(contains(message, "no comm plugins were found"));
  CHECK(contains(message, "TRELLIS_PLUGIN_PATH"));
}

TEST_CASE("an unknown name lists unusable plugins of its kind with their problems") {
  const PluginRegistry registry = PluginRegistry::discover({from_env(bad_dir())});
  const std::string message =
      plugin_error_of([&] { registry.find(PluginKind::schedule, "future-majr"); });
  CHECK(contains(message, "Did you mean 'future-major'?"));
  CHECK(contains(message, "unusable: built for Trellis plugin ABI 3.0"));
}

}  // namespace trellis::test
