// load_run in-process: the values a run resolves to, and problems that need a precise look.
#include <doctest/doctest.h>

#include <cstdlib>

#include "config/config_loader.h"
#include "support/fixtures.h"

namespace fs = std::filesystem;
using trellis::ConfigError;
using trellis::load_run_text;
using trellis::ResolvedRun;
using trellis::RunEnvironment;

namespace {

// The fixtures, in a work directory; configs in tests sit in work/, so they say fixtures/...
const fs::path& work() {
  static const fs::path dir = [] {
    fs::path d = trellis::test::fresh_work_dir("loader");
    trellis::test::make_fixtures(d / "fixtures");
    return d;
  }();
  return dir;
}

RunEnvironment test_env(std::optional<int> launcher_world = std::nullopt) {
  RunEnvironment env;
  env.plugin_path = CONFIG_TEST_PLUGIN_DIR;
  if (launcher_world) env.launcher_world = {"TRELLIS_WORLD_SIZE", std::to_string(*launcher_world)};
  return env;
}

const std::string kBase =
    "[data]\ntrain = \"fixtures/tiny.txt\"\n[parallel]\ntensor_mode = \"test-1d\"\n";

ResolvedRun load(const std::string& extra, std::vector<std::string> sets = {},
                 RunEnvironment env = test_env()) {
  return load_run_text(kBase + extra, work() / "run.toml", sets, env);
}

// The problems of a config that must fail, one formatted line each.
std::vector<std::string> problems_of(const std::string& text, std::vector<std::string> sets = {},
                                     RunEnvironment env = test_env()) {
  try {
    load_run_text(text, work() / "run.toml", sets, env);
  } catch (const ConfigError& e) {
    std::vector<std::string> out;
    for (const auto& p : e.problems()) out.push_back(p.format());
    return out;
  }
  FAIL("the config loaded without problems:\n" << text);
  return {};
}

}  // namespace

TEST_CASE("a minimal config resolves to one rank with the defaults") {
  const ResolvedRun run = load("");
  CHECK(run.world_size == 1);
  CHECK(run.layout.sizes().data == 1);
  CHECK(run.microbatches == 8);  // 32 / (4 x 1)
  CHECK(run.dims.vocab_size == 50257);
  CHECK(run.dims.padded_vocab == 50304);
  CHECK(run.layers_per_stage() == 12);
  CHECK(run.train.format == trellis::DataFile::Format::text);
  CHECK(run.train.path == work() / "fixtures/tiny.txt");
  CHECK(run.lr_schedule == trellis::LrSchedule::cosine);
  CHECK(run.device == trellis::DeviceKind::cpu);
  CHECK(run.comm_timeout == std::chrono::seconds(300));
  CHECK(run.config.run.out_dir == "runs/trellis");
  CHECK(run.config.checkpoint.dir == "runs/trellis/checkpoints");
  CHECK(run.config.logging.metrics == "runs/trellis/metrics.jsonl");
  CHECK(run.config.logging.trace.empty());
  CHECK(run.origins.at("run.out_dir").describe() == "default (runs/<name>)");
  REQUIRE(run.plugins.size() == 4);
  CHECK(run.plugins[0].info->name == "test-1d");
  CHECK_FALSE(run.plugins[1].used);  // one stage: no schedule
  CHECK(run.plugins[2].name == "ring");
  CHECK_FALSE(run.plugins[2].used);  // context 1: whole sequences, no context attention
  CHECK_FALSE(run.plugins[3].used);  // one rank: nothing communicates
  CHECK(run.registry != nullptr);
}

TEST_CASE("parallel.data = -1 takes the rest of the world") {
  const ResolvedRun run = load(
      "tensor = 2\npipeline = 2\nschedule = \"test-interleaved\"\n[launch]\nnproc = 8\n"
      "[comm]\nbackend = \"test-comm\"\n");
  CHECK(run.world_size == 8);
  CHECK(run.layout.sizes().tensor == 2);
  CHECK(run.layout.sizes().pipeline == 2);
  CHECK(run.layout.sizes().data == 2);
  CHECK(run.config.parallel.data == 2);
  CHECK(run.microbatches == 4);  // 32 / (4 x 2)
  CHECK(run.layers_per_stage() == 6);
  CHECK(run.plugins[1].used);
  CHECK(run.plugins[3].used);
  // Megatron's order: tensor fastest, then data, then pipeline.
  CHECK(run.layout.group(5, {trellis::ParallelDim::tensor}) == std::vector<int>{4, 5});
  CHECK(run.layout.group(5, {trellis::ParallelDim::data}) == std::vector<int>{5, 7});
  CHECK(run.layout.group(5, {trellis::ParallelDim::pipeline}) == std::vector<int>{1, 5});
}

TEST_CASE(
    "[comm.groups] gives dimensions their own backends; one-rank dimensions keep the default") {
  const ResolvedRun run = load(
      "tensor = 2\npipeline = 2\nschedule = \"test-interleaved\"\n[launch]\nnproc = 4\n"
      "[comm]\nbackend = \"test-comm\"\n[comm.groups]\ntensor = \"mpi\"\ndata = \"mpi\"\n",
      {"comm.groups.pipeline=mpi"});
  using trellis::CommDimension;
  CHECK(run.config.comm.groups.tensor == "mpi");
  CHECK(run.config.comm.groups.pipeline == "mpi");
  CHECK(run.group_backend(CommDimension::tensor) == "mpi");
  CHECK(run.group_backend(CommDimension::pipeline) == "mpi");
  CHECK(run.group_backend(CommDimension::data) == "test-comm");  // data = 1
  CHECK(run.group_backend(CommDimension::context) == "test-comm");
  CHECK(run.comm_backends() == std::vector<std::string>{"test-comm", "mpi"});
  // One use of mpi, at the first key that needs it, and checked like [comm] backend.
  int mpi_uses = 0;
  for (const trellis::PluginUse& use : run.plugins) {
    if (use.kind != trellis::PluginKind::comm || use.name != "mpi") continue;
    ++mpi_uses;
    CHECK(use.key == "comm.groups.tensor");
    CHECK(use.used);
  }
  CHECK(mpi_uses == 1);
}

TEST_CASE("an explicit data size must make up the world") {
  const ResolvedRun run = load(
      "tensor = 2\ndata = 2\n[launch]\nnproc = 4\n"
      "[comm]\nbackend = \"test-comm\"\n");
  CHECK(run.layout.sizes().data == 2);
  const auto problems = problems_of(kBase +
                                    "tensor = 2\ndata = 3\n[launch]\nnproc = 4\n"
                                    "[comm]\nbackend = \"test-comm\"\n");
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].find("run.toml:6: parallel.data = 3: tensor 2 x context 1 x data 3 x "
                         "pipeline 1 = 6 ranks, but the world has 4") != std::string::npos);
}

TEST_CASE("the rank order is the config's") {
  const ResolvedRun run = load(
      "tensor = 2\norder = \"dp-tp-cp-pp\"\n[launch]\nnproc = 4\n"
      "[comm]\nbackend = \"test-comm\"\n");
  CHECK(run.layout.group(0, {trellis::ParallelDim::tensor}) == std::vector<int>{0, 2});
  CHECK(run.layout.group(0, {trellis::ParallelDim::data}) == std::vector<int>{0, 1});
}

TEST_CASE("a launcher's world size wins over [launch] nproc") {
  const ResolvedRun run =
      load("tensor = 2\n[launch]\nnproc = 2\n[comm]\nbackend = \"test-comm\"\n", {}, test_env(8));
  CHECK(run.world_size == 8);
  CHECK(run.layout.sizes().data == 4);
  CHECK(run.world_origin.describe() == "TRELLIS_WORLD_SIZE=8");
}

TEST_CASE("launcher_world_size reads TRELLIS_WORLD_SIZE, then Open MPI's, then Slurm's") {
  std::map<std::string, std::string> vars;
  auto lookup = [&](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
  CHECK_FALSE(trellis::launcher_world_size(lookup).has_value());
  vars["SLURM_NTASKS"] = "16";
  CHECK(trellis::launcher_world_size(lookup)->text() == "SLURM_NTASKS=16");
  vars["OMPI_COMM_WORLD_SIZE"] = "8";
  CHECK(trellis::launcher_world_size(lookup)->text() == "OMPI_COMM_WORLD_SIZE=8");
  vars["TRELLIS_WORLD_SIZE"] = "4";
  CHECK(trellis::launcher_world_size(lookup)->text() == "TRELLIS_WORLD_SIZE=4");
  vars["TRELLIS_PLUGIN_PATH"] = "/p";
  const RunEnvironment env = RunEnvironment::from_lookup(lookup);
  CHECK(env.launcher_world->value == "4");
  CHECK(env.plugin_path == "/p");
}

TEST_CASE("the run's environment holds Trellis's own variables; an empty test setting is unset") {
  std::map<std::string, std::string> vars = {
      {"TRELLIS_OUTPUT_TERMINAL", "0"}, {"TRELLIS_TEST_FAULT", "step:1:3"}, {"TRELLIS_RANK", "2"}};
  auto lookup = [&](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
  const RunEnvironment env = RunEnvironment::from_lookup(lookup);
  CHECK(env.output_terminal == false);
  CHECK(env.test_fault == "step:1:3");
  vars["TRELLIS_TEST_FAULT"] = "";
  CHECK_FALSE(RunEnvironment::from_lookup(lookup).test_fault.has_value());
  // What the launcher's variables are read from (launch/rank_environment.h).
  CHECK(std::string(env.lookup()("TRELLIS_RANK")) == "2");
  CHECK(RunEnvironment{}.lookup()("TRELLIS_RANK") == nullptr);
}

TEST_CASE("RunEnvironment::from_process captures the environment once") {
  ::setenv("TRELLIS_TEST_CAPTURE_PROBE", "before", 1);
  const RunEnvironment env = RunEnvironment::from_process();
  ::setenv("TRELLIS_TEST_CAPTURE_PROBE", "after", 1);
  CHECK(std::string(env.lookup()("TRELLIS_TEST_CAPTURE_PROBE")) == "before");
  ::unsetenv("TRELLIS_TEST_CAPTURE_PROBE");
}

TEST_CASE(
    "relative input paths in the file resolve against its directory, outputs against out_dir") {
  const fs::path dir = work() / "nested" / "configs";
  fs::create_directories(dir);
  const ResolvedRun run = load_run_text(
      "[data]\ntrain = \"../../fixtures/tokens.bin\"\n[parallel]\ntensor_mode = \"test-1d\"\n"
      "[run]\nout_dir = \"out\"\n[logging]\ntrace = \"trace.json\"\n"
      "[model]\ninit = \"llmc:../../fixtures/gpt2_tiny.bin\"\n",
      dir / "run.toml", {}, test_env());
  CHECK(run.train.path == work() / "fixtures/tokens.bin");
  CHECK(run.train.format == trellis::DataFile::Format::llmc_tokens);
  CHECK(run.train.tokens == 2000);
  CHECK(run.config.run.out_dir == (dir / "out").string());
  CHECK(run.config.checkpoint.dir == (dir / "out/checkpoints").string());
  CHECK(run.config.logging.trace == (dir / "out/trace.json").string());
  CHECK(run.init.path == work() / "fixtures/gpt2_tiny.bin");
}

TEST_CASE("relative input paths from --set stay relative to the working directory") {
  const ResolvedRun run =
      load("", {"data.train=" + (work() / "fixtures/tiny.txt").string(), "run.out_dir=out"});
  CHECK(run.config.run.out_dir == "out");
  const ResolvedRun relative = load("", {"run.out_dir=/abs/out", "plugins.paths=plugins"});
  CHECK(relative.config.plugins.paths == std::vector<std::string>{"plugins"});
}

TEST_CASE("every relative output path lands in out_dir, however out_dir and the path were given") {
  // The quickstart wrote its export next to the config file whatever --set run.out_dir said.
  const ResolvedRun run = load(
      "[run]\nout_dir = \"out\"\n[model]\nexport = \"llmc:model.bin\"\n[checkpoint]\ndir = "
      "\"ckpt\"\n[logging]\nmetrics = \"m.jsonl\"\ntrace = \"t.json\"\n",
      {"run.out_dir=/elsewhere/run"});
  CHECK(run.config.run.out_dir == "/elsewhere/run");
  CHECK(run.export_llmc == fs::path("/elsewhere/run/model.bin"));
  CHECK(run.config.checkpoint.dir == "/elsewhere/run/ckpt");
  CHECK(run.config.logging.metrics == "/elsewhere/run/m.jsonl");
  CHECK(run.config.logging.trace == "/elsewhere/run/t.json");

  const ResolvedRun from_set = load(
      "", {"logging.trace=trace.json", "run.out_dir=/abs/out", "model.export=llmc:sub/model.bin"});
  CHECK(from_set.config.logging.trace == "/abs/out/trace.json");
  CHECK(from_set.export_llmc == fs::path("/abs/out/sub/model.bin"));
  CHECK(from_set.config.checkpoint.dir == "/abs/out/checkpoints");  // the defaults, as before

  // Absolute paths stay where they are.
  const ResolvedRun absolute = load("[logging]\ntrace = \"/tmp/t.json\"\n");
  CHECK(absolute.config.logging.trace == "/tmp/t.json");
}

TEST_CASE("a missing file names the path as written and as resolved") {
  const auto problems = problems_of(
      "[data]\ntrain = \"fixtures/nope.txt\"\n[parallel]\n"
      "tensor_mode = \"test-1d\"\n");
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].find("run.toml:2: data.train = \"fixtures/nope.txt\": ") != std::string::npos);
  CHECK(problems[0].find("no such file: " + (work() / "fixtures/nope.txt").string() +
                         " (\"fixtures/nope.txt\" resolved against the config file's "
                         "directory)") != std::string::npos);
}

TEST_CASE("[data] tokenizer: bytes by default, gpt2:DIR resolved against the config's directory") {
  CHECK(load("").tokenizer->describe() == "bytes");
  const ResolvedRun run = load_run_text(
      "[data]\ntrain = \"fixtures/tiny.txt\"\ntokenizer = \"gpt2:fixtures/gpt2_tokenizer\"\n"
      "[parallel]\ntensor_mode = \"test-1d\"\n",
      work() / "run.toml", {}, test_env());
  CHECK(run.config.data.tokenizer == "gpt2:" + (work() / "fixtures/gpt2_tokenizer").string());
  REQUIRE(run.tokenizer != nullptr);
  CHECK(run.tokenizer->vocab_size() == 341);
  CHECK(run.tokenizer->end_of_text() == 340);
}

TEST_CASE("a tokenizer's vocabulary larger than vocab_size names both") {
  const auto problems = problems_of(
      "[data]\ntrain = \"fixtures/tokens.bin\"\ntokenizer = \"gpt2:fixtures/gpt2_tokenizer\"\n"
      "[parallel]\ntensor_mode = \"test-1d\"\n[model]\nvocab_size = 340\n");
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].find("run.toml:7: model.vocab_size = 340: vocab_size 340 is smaller than "
                         "the vocabulary of tokenizer gpt2:") != std::string::npos);
  CHECK(problems[0].find("(341 tokens, ids 0..340); valid: vocab_size >= 341") !=
        std::string::npos);
}

TEST_CASE("the padded vocabulary is a multiple of 128 and of tensor") {
  auto padded = [](int tensor, std::int64_t vocab) {
    return load("tensor = " + std::to_string(tensor) + "\nschedule = \"test-interleaved\"\n" +
                "[launch]\nnproc = " + std::to_string(tensor) + "\n[model]\nheads = " +
                std::to_string(tensor * 2) + "\nhidden = " + std::to_string(tensor * 64) +
                "\nvocab_size = " + std::to_string(vocab) + "\n[comm]\nbackend = \"test-comm\"\n")
        .dims.padded_vocab;
  };
  CHECK(padded(1, 50257) == 50304);
  CHECK(padded(3, 50257) == 50304);  // lcm(128, 3) = 384 divides 50304
  CHECK(padded(5, 50257) == 50560);  // lcm(128, 5) = 640
  CHECK(padded(1, 256) == 256);
}

TEST_CASE("an llm.c checkpoint gives the model dimensions the file leaves out") {
  const ResolvedRun run = load("[model]\ninit = \"llmc:fixtures/gpt2_tiny.bin\"\nseq_len = 32\n");
  REQUIRE(run.llmc.has_value());
  CHECK(run.init.kind == trellis::ModelInit::Kind::llmc);
  CHECK(run.dims.vocab_size == 300);
  CHECK(run.dims.padded_vocab == 384);
  CHECK(run.dims.layers == 2);
  CHECK(run.dims.heads == 2);
  CHECK(run.dims.hidden == 16);
  CHECK(run.dims.seq_len == 32);  // given, and within maxT 64
  CHECK(run.origins.at("model.layers").describe().starts_with("header of "));
  CHECK(run.origins.at("model.seq_len").describe() == (work() / "run.toml").string() + ":7");
}

TEST_CASE("the checkpoint's Vp grows to a multiple of tensor when needed") {
  trellis::test::write_llmc_checkpoint(work() / "fixtures/gpt2_5heads.bin",
                                       {.heads = 5, .channels = 20});
  const ResolvedRun run = load(
      "tensor = 5\n[launch]\nnproc = 5\n[comm]\nbackend = \"test-comm\"\n"
      "[model]\ninit = \"llmc:fixtures/gpt2_5heads.bin\"\n");
  CHECK(run.dims.padded_vocab == 385);  // 384 rounded up to a multiple of 5
}

TEST_CASE("a llm.c checkpoint with a token training file") {
  const ResolvedRun run = load("[model]\ninit = \"llmc:fixtures/gpt2_tiny.bin\"\n",
                               {"data.train=" + (work() / "fixtures/tokens.bin").string()});
  CHECK(run.train.format == trellis::DataFile::Format::llmc_tokens);
  // V = 300 is enough for text too; a checkpoint with V < 256 would not be.
}

TEST_CASE("all problems are reported together, in file order") {
  const auto problems = problems_of(kBase +
                                        "tensr = 2\n[model]\nheads = 5\n[optim]\nzero = 3\n"
                                        "[device]\nkind = \"tpu\"\n",
                                    {"run.steps=0"});
  REQUIRE(problems.size() == 5);
  const std::string file = (work() / "run.toml").string();
  CHECK(problems[0].starts_with(file + ":5: parallel.tensr = 2: unknown key"));
  CHECK(problems[1].starts_with(file + ":7: model.heads = 5:"));
  CHECK(problems[2].starts_with(file + ":9: optim.zero = 3:"));
  CHECK(problems[3].starts_with(file + ":11: device.kind = \"tpu\":"));
  CHECK(problems[4].starts_with("--set run.steps=0: out of range"));
}

TEST_CASE("a problem with a key left at its default says so") {
  const auto problems = problems_of(
      kBase + "[launch]\nnproc = 2\n[comm]\nbackend = \"test-comm\"\n[train]\nglobal_batch = 4\n",
      {"train.global_batch=12"});
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].starts_with("--set train.global_batch=12: global_batch 12 does not split"));
  const auto defaults = problems_of("[parallel]\ntensor_mode = \"test-1d\"\n");
  REQUIRE(defaults.size() == 1);
  CHECK(defaults[0].starts_with("data.train = \"\" (default): a training file is required"));
}

TEST_CASE("backend options are checked against the backend's declared options") {
  const ResolvedRun run =
      load("[comm.test-comm]\ntls = \"shm\"\nrails = 2\neager_limit = 4096\nverbose = true\n");
  const trellis::Options& options = run.plugin_options.at("comm.test-comm");
  CHECK(options.get_string("tls", "") == "shm");
  CHECK(options.get_int("rails", 0) == 2);
  // An integer where a number is declared is a number.
  CHECK(std::holds_alternative<double>(options.values().at("eager_limit")));
  CHECK(options.get_number("eager_limit", 0) == 4096.0);
  CHECK(options.get_bool("verbose", false));
  CHECK(run.backend_options().values().empty());  // the backend in use is the default "mpi"

  const auto problems = problems_of(kBase + "[comm.test-comm]\nverbose = 1\n");
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].find("run.toml:6: comm.test-comm.verbose = 1: wrong type: expected a "
                         "boolean, got an integer; valid: verbose (boolean)") != std::string::npos);
}

TEST_CASE("the backend's table goes to its check when the run uses it") {
  const ResolvedRun run =
      load("[launch]\nnproc = 2\n[comm]\nbackend = \"test-comm\"\n[comm.test-comm]\nrails = 3\n");
  CHECK(run.backend_options().get_int("rails", 0) == 3);
  const auto problems = problems_of(
      kBase + "[launch]\nnproc = 2\n[comm]\nbackend = \"test-comm\"\n", {"comm.test-comm.rails=0"});
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].starts_with("--set comm.test-comm.rails=0: comm backend 'test-comm': rails 0"));
}

TEST_CASE("plugin problems land on the key the plugin names") {
  const auto problems =
      problems_of(kBase + "tensor = 8\n[launch]\nnproc = 8\n[comm]\nbackend = \"test-comm\"\n");
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].find("run.toml:5: parallel.tensor = 8: layers plugin 'test-1d': heads 12 do "
                         "not split") != std::string::npos);
}

TEST_CASE("an unknown plugin lists what exists and where the search looked") {
  const auto problems = problems_of(
      "[data]\ntrain = \"fixtures/tiny.txt\"\n[parallel]\n"
      "tensor_mode = \"4d\"\n");
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].find("parallel.tensor_mode = \"4d\"") != std::string::npos);
  CHECK(problems[0].find("test-2d") != std::string::npos);
  CHECK(problems[0].find(CONFIG_TEST_PLUGIN_DIR) != std::string::npos);
}

TEST_CASE("integers are accepted where numbers are expected") {
  const ResolvedRun run = load("[optim]\nlr = 1\nmin_lr = 0\n[comm]\ntimeout_s = 30\n");
  CHECK(run.config.optim.lr == 1.0);
  CHECK(run.comm_timeout == std::chrono::seconds(30));
}

TEST_CASE("device.kind = \"cuda\" is fine at config time") {
  const ResolvedRun run = load("[device]\nkind = \"cuda\"\nthreads = 4\n");
  CHECK(run.device == trellis::DeviceKind::cuda);
  CHECK(run.config.device.threads == 4);
}
