#include <doctest/doctest.h>

#include "config/config_override.h"
#include "config/config_reader.h"
#include "trellis/error.h"

using trellis::parse_override;

TEST_CASE("--set values are TOML, else plain strings") {
  CHECK(parse_override("parallel.tensor=4").value->value<std::int64_t>() == 4);
  CHECK(parse_override("optim.lr=3e-4").value->value<double>() == doctest::Approx(3e-4));
  CHECK(parse_override("data.shuffle=true").value->value<bool>() == true);
  CHECK(parse_override("run.name=\"quoted\"").value->value<std::string>() == "quoted");
  CHECK(parse_override("plugins.paths=[\"a\", \"b\"]").value->is_array());
  // Not TOML: taken as the text.
  CHECK(parse_override("parallel.tensor_mode=1d").value->value<std::string>() == "1d");
  CHECK(parse_override("parallel.order=tp-cp-dp-pp").value->value<std::string>() == "tp-cp-dp-pp");
  CHECK(parse_override("data.val=").value->value<std::string>() == "");
  CHECK(parse_override("data.train=a b=c").value->value<std::string>() == "a b=c");
}

TEST_CASE("--set keys are section.key or comm.backend.option") {
  CHECK(parse_override("parallel.tensor=2").path == std::vector<std::string>{"parallel", "tensor"});
  CHECK(parse_override("comm.ucx.tls=shm").path == std::vector<std::string>{"comm", "ucx", "tls"});
  CHECK(parse_override("parallel.tensor = 2").path.back() == "tensor");  // TOML-style spaces
  CHECK_THROWS_AS(parse_override("parallel.tensor"), trellis::InputError);
  CHECK_THROWS_AS(parse_override("tensor=2"), trellis::InputError);
  CHECK_THROWS_AS(parse_override("parallel..tensor=2"), trellis::InputError);
  CHECK_THROWS_AS(parse_override("parallel.ten sor=2"), trellis::InputError);
  CHECK_THROWS_WITH_AS(parse_override("=2"), doctest::Contains("valid: --set section.key=value"),
                       trellis::InputError);
}

TEST_CASE("--set beats the file, the file beats the default") {
  trellis::ProblemList problems;
  const trellis::ReadConfig read = trellis::read_config_text(
      "[run]\nsteps = 10\nseed = 7\n", "x.toml", {"run.steps=20", "train.micro_batch=2"}, problems);
  REQUIRE(problems.empty());
  CHECK(read.config.run.steps == 20);
  CHECK(read.origin("run.steps").kind == trellis::Origin::Kind::override_arg);
  CHECK(read.origin("run.steps").describe() == "--set run.steps=20");
  CHECK(read.config.run.seed == 7);
  CHECK(read.origin("run.seed").describe() == "x.toml:3");
  CHECK(read.config.train.micro_batch == 2);
  CHECK(read.config.train.global_batch == 32);
  CHECK(read.origin("train.global_batch").kind == trellis::Origin::Kind::default_value);
}

TEST_CASE("the last --set of a key wins") {
  trellis::ProblemList problems;
  const trellis::ReadConfig read =
      trellis::read_config_text("", "x.toml", {"parallel.tensor=2", "parallel.tensor=4"}, problems);
  REQUIRE(problems.empty());
  CHECK(read.config.parallel.tensor == 4);
}

TEST_CASE("--set of a string key takes the text, whatever it looks like") {
  trellis::ProblemList problems;
  const trellis::ReadConfig read = trellis::read_config_text(
      "", "x.toml", {"run.name=123", "plugins.paths=/opt/plugins"}, problems);
  REQUIRE(problems.empty());
  CHECK(read.config.run.name == "123");
  CHECK(read.config.plugins.paths == std::vector<std::string>{"/opt/plugins"});
}

TEST_CASE("--set reaches backend tables") {
  trellis::ProblemList problems;
  const trellis::ReadConfig read =
      trellis::read_config_text("[comm.test-comm]\ntls = \"tcp\"\n", "x.toml",
                                {"comm.test-comm.tls=shm", "comm.test-comm.rails=2"}, problems);
  REQUIRE(problems.empty());
  const trellis::PluginTable& table = read.plugin_tables.at("comm.test-comm");
  CHECK(std::get<std::string>(table.options.at("tls").value) == "shm");
  CHECK(std::get<std::int64_t>(table.options.at("rails").value) == 2);
  CHECK(table.origin.describe() == "x.toml:1");
}

TEST_CASE("--set below a plain key says the key is a value") {
  trellis::ProblemList problems;
  trellis::read_config_text("", "x.toml", {"run.name.first=a"}, problems);
  REQUIRE(problems.size() == 1);
  CHECK(problems.sorted()[0].format() ==
        "--set run.name.first=a: run.name takes a non-empty string, not a table of keys");
}
