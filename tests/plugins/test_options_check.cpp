// options() and check() hand back what the plugin declares and decides.
#include "registry_test_support.h"

namespace trellis::test {

TEST_CASE("options() returns the option specs a plugin declares") {
  const PluginRegistry registry = PluginRegistry::discover({from_env(good_dir())});
  const std::vector<OptionSpec> options = registry.options(PluginKind::comm, "solo");
  REQUIRE(options.size() == 2);
  CHECK(std::string(options[0].key) == "greeting");
  CHECK(options[0].type == OptionType::string);
  CHECK(std::string(options[0].default_value) == "\"hello\"");
  CHECK(std::string(options[0].help) == "what the backend says at start");
  CHECK(std::string(options[1].key) == "spin");
  CHECK(options[1].type == OptionType::integer);
}

TEST_CASE("options() of a plugin that declares none is empty") {
  const PluginRegistry registry = PluginRegistry::discover({from_env(good_dir())});
  CHECK(registry.options(PluginKind::schedule, "fill-drain").empty());
}

TEST_CASE("check() returns the problems the plugin finds with a run") {
  const PluginRegistry registry = PluginRegistry::discover({from_env(good_dir())});
  const Options options;
  RunQuery query;
  query.options = &options;
  query.sizes.tensor = 2;
  const std::vector<ConfigProblem> problems =
      registry.check(PluginKind::layers, "grid-check", query);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].key == "parallel.tensor");
  CHECK(contains(problems[0].message, "not 2"));

  query.sizes.tensor = 4;
  CHECK(registry.check(PluginKind::layers, "grid-check", query).empty());
}

TEST_CASE("check() gives the plugin an empty options table when the run has none") {
  const PluginRegistry registry = PluginRegistry::discover({from_env(good_dir())});
  RunQuery query;  // options == nullptr
  query.sizes.tensor = 9;
  CHECK(registry.check(PluginKind::layers, "grid-check", query).empty());
}

TEST_CASE("check() of a plugin without a check finds no problems") {
  const PluginRegistry registry = PluginRegistry::discover({from_env(good_dir())});
  CHECK(registry.check(PluginKind::schedule, "fill-drain", RunQuery{}).empty());
}

TEST_CASE("options() and check() of an unknown plugin are errors") {
  const PluginRegistry registry = PluginRegistry::discover({from_env(good_dir())});
  CHECK_THROWS_AS(registry.options(PluginKind::comm, "nope"), PluginError);
  CHECK_THROWS_AS(registry.check(PluginKind::layers, "nope", RunQuery{}), PluginError);
}

}  // namespace trellis::test
