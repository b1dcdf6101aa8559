// trellis-train's command line: arguments, exit codes, and what --dry-run prints for good configs.
#include <doctest/doctest.h>

#include <filesystem>
#include <sstream>

#include "support/fixtures.h"
#include "support/process.h"

namespace fs = std::filesystem;
using trellis::test::ProcessResult;
using trellis::test::run_trellis_train;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The line of `text` that starts with `prefix` after leading spaces; empty when none.
std::string line_starting(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const std::size_t start = line.find_first_not_of(' ');
    if (start != std::string::npos && line.compare(start, prefix.size(), prefix) == 0) return line;
  }
  return {};
}

// The lines from `heading` to the next empty line: one part of the --dry-run report.
std::string block(const std::string& text, const std::string& heading) {
  const std::size_t start = text.find("\n" + heading);
  if (start == std::string::npos) return {};
  const std::size_t end = text.find("\n\n", start + 1);
  return text.substr(start + 1, end == std::string::npos ? std::string::npos : end - start);
}

// A work directory with the fixtures and a good config in it; returns the config's path.
fs::path good_config(const std::string& name, const std::string& body) {
  const fs::path work = trellis::test::fresh_work_dir("cli_" + name);
  trellis::test::make_fixtures(work / "fixtures");
  const fs::path config = work / "run.toml";
  trellis::test::write_text_file(config, "[data]\ntrain = \"fixtures/tiny.txt\"\n" + body);
  return config;
}

}  // namespace

TEST_CASE("--help prints the usage and exits 0") {
  const ProcessResult r = run_trellis_train({"--help"});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.output, "usage: trellis-train CONFIG"));
  CHECK(contains(r.output, "--dry-run"));
}

TEST_CASE("bad arguments exit 2 with the usage") {
  SUBCASE("no config file") {
    const ProcessResult r = run_trellis_train({});
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "no CONFIG file given"));
    CHECK(contains(r.output, "usage: trellis-train"));
  }
  SUBCASE("an unknown option, with a suggestion") {
    const ProcessResult r = run_trellis_train({"run.toml", "--dryrun"});
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "unknown option '--dryrun' (did you mean '--dry-run'?)"));
  }
  SUBCASE("--set without its argument") {
    const ProcessResult r = run_trellis_train({"run.toml", "--set"});
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "--set needs section.key=value"));
  }
  SUBCASE("two config files") {
    const ProcessResult r = run_trellis_train({"a.toml", "b.toml"});
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "one CONFIG file only"));
  }
}

TEST_CASE("a bad --set exits 2 and shows the valid form") {
  const fs::path config = good_config("bad_set", "[parallel]\ntensor_mode = \"test-1d\"\n");
  for (const std::string set : {"parallel.tensor", "tensor=2", "parallel..tensor=2", "=3"}) {
    INFO("--set " << set);
    const ProcessResult r = run_trellis_train({config.string(), "--dry-run", "--set", set});
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "--set " + set + ": "));
    CHECK(contains(r.output, "valid: --set section.key=value"));
  }
}

TEST_CASE("a config file that cannot be read exits 2, naming it by its absolute path") {
  const fs::path work = trellis::test::fresh_work_dir("cli_missing");
  SUBCASE("missing, named relative to the working directory") {
    const ProcessResult r = run_trellis_train({"absent.toml", "--dry-run"}, {}, work);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "absent.toml: cannot read the config file " +
                                 (work / "absent.toml").string() + ": no such file"));
  }
  SUBCASE("a directory") {
    const ProcessResult r = run_trellis_train({work.string(), "--dry-run"});
    CHECK(r.exit_code == 2);
    CHECK(
        contains(r.output, "cannot read the config file " + work.string() + ": it is a directory"));
  }
}

TEST_CASE("--dry-run of a good config prints the resolved run and exits 0") {
  const fs::path config = good_config("good", R"(
[run]
name = "cli-good"
steps = 10
[comm]
backend = "test-comm"
[parallel]
tensor_mode = "test-1d"
tensor = 2
)");
  const ProcessResult r = run_trellis_train(
      {config.string(), "--dry-run", "--set", "launch.nproc=2", "--set", "run.steps=20"}, {});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  // Every key, with its origin: --set beats the file, the file beats the default.
  CHECK(contains(line_starting(block(r.output, "Configuration"), "steps"), "= 20"));
  CHECK(contains(line_starting(block(r.output, "Configuration"), "steps"), "--set run.steps=20"));
  CHECK(contains(line_starting(block(r.output, "Configuration"), "name "), "run.toml:5"));
  CHECK(contains(line_starting(block(r.output, "Configuration"), "seed"), "default"));
  CHECK(contains(line_starting(block(r.output, "Configuration"), "out_dir"), "runs/cli-good"));
  // The layout.
  CHECK(contains(line_starting(block(r.output, "Layout"), "world size"),
                 "2 (launch.nproc, --set launch.nproc=2)"));
  CHECK(contains(r.output, "tensor 2 x context 1 x data 1 x pipeline 1"));
  CHECK(contains(line_starting(block(r.output, "Layout"), "microbatches"),
                 "8 per step per data rank"));
  CHECK(contains(line_starting(block(r.output, "Layout"), "padded vocab"), "50304"));
  CHECK(contains(line_starting(block(r.output, "Layout"), "layers per stage"), "12 of 12"));
  // The plugins: used ones with version and file, idle ones saying why.
  CHECK(contains(line_starting(block(r.output, "Plugins"), "layers "),
                 "libtrellis_layers_test-1d.so"));
  CHECK(contains(line_starting(block(r.output, "Plugins"), "schedule"), "unused: pipeline = 1"));
  CHECK(contains(line_starting(block(r.output, "Plugins"), "comm "), "test-comm.so"));
  // One line per rank.
  CHECK(contains(r.output, "tensor group"));
  CHECK(contains(line_starting(block(r.output, "Ranks"), "1 "), "[0, 1]"));
}

TEST_CASE("--dry-run of 64 ranks prints one line per rank with its groups") {
  const fs::path config = good_config("ranks64", R"(
[launch]
nproc = 64
[comm]
backend = "test-comm"
[parallel]
tensor_mode = "test-1d"
schedule = "1f1b"
tensor = 2
pipeline = 4
[train]
global_batch = 64
)");
  const ProcessResult r = run_trellis_train({config.string(), "--dry-run"});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.output, "tensor 2 x context 1 x data 8 x pipeline 4"));
  CHECK(contains(line_starting(block(r.output, "Layout"), "microbatches"),
                 "2 per step per data rank"));
  CHECK(contains(line_starting(block(r.output, "Layout"), "layers per stage"), "3 of 12"));
  CHECK(contains(line_starting(block(r.output, "Configuration"), "data "), "-1: world 64 / 8"));
  // Rank 5: tp 1, dp 2, pp 0; tensor group [4, 5], data group 1, 3, ..., 15, pipeline 5, 21, ...
  const std::string rank5 = line_starting(block(r.output, "Ranks"), "5  ");
  CHECK(contains(rank5, "1   0   2   0"));
  CHECK(contains(rank5, "[4, 5]"));
  CHECK(contains(rank5, "[1, 3..15]"));
  CHECK(contains(rank5, "[5, 21..53]"));
  CHECK_FALSE(line_starting(block(r.output, "Ranks"), "63  ").empty());
  CHECK(
      contains(line_starting(block(r.output, "Plugins"), "comm "), "libtrellis_comm_test-comm.so"));
  // The schedule, simulated: 1F1B's bubble (p - 1) / m = 3 / 2 of the compute, drawn per stage.
  CHECK(contains(r.output, "Schedule 1f1b (simulated"));
  CHECK(contains(r.output, "bubble 150.0% of the compute"));
  CHECK(contains(r.output, "rank 3 | .   .   .   3F0 3B0 3B0 3F1 3B1 3B1"));
}

TEST_CASE("--dry-run with context 2 prints each rank's context group and token positions") {
  const fs::path config = good_config("context2", R"(
[launch]
nproc = 4
[comm]
backend = "test-comm"
[parallel]
tensor_mode = "1d"
tensor = 2
context = 2
context_mode = "allgather"
[model]
seq_len = 8
layers = 2
heads = 2
hidden = 8
vocab_size = 256
[train]
micro_batch = 2
global_batch = 2
)");
  const ProcessResult r = run_trellis_train({config.string(), "--dry-run"});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.output, "tensor 2 x context 2 x data 1 x pipeline 1"));
  CHECK(contains(line_starting(block(r.output, "Layout"), "context"),
                 "allgather attention; each sequence cut into 4 chunks of 2 tokens, context rank "
                 "i holds chunks i and 3 - i (4 tokens of each sequence)"));
  CHECK(contains(line_starting(block(r.output, "Plugins"), "context"),
                 "libtrellis_context_allgather.so"));
  // The shards of context rank 0: 4 of the 8 tokens of each of the 2 sequences.
  CHECK(contains(r.output, "hidden states between blocks and stages: [2, 4, 8] on context rank 0"));
  // tp-cp-dp-pp: ranks 0 and 2 are context ranks 0 and 1 of tensor rank 0.
  CHECK(contains(block(r.output, "Ranks"), "context group"));
  const std::string rank0 = line_starting(block(r.output, "Ranks"), "0  ");
  CHECK(contains(rank0, "[0, 2]"));
  CHECK(contains(rank0, "[0, 2) [6, 8)"));
  const std::string rank3 = line_starting(block(r.output, "Ranks"), "3  ");
  CHECK(contains(rank3, "[1, 3]"));
  CHECK(contains(rank3, "[2, 4) [4, 6)"));
}

TEST_CASE("a launcher's world size replaces [launch] nproc") {
  const fs::path config = good_config("env_world", R"(
[comm]
backend = "test-comm"
[parallel]
tensor_mode = "test-1d"
tensor = 2
)");
  for (const char* var : {"TRELLIS_WORLD_SIZE", "OMPI_COMM_WORLD_SIZE", "SLURM_NTASKS"}) {
    INFO(var);
    const ProcessResult r =
        run_trellis_train({config.string(), "--dry-run"}, {{var, std::string("4")}});
    REQUIRE(r.exit_code == 0);
    CHECK(
        contains(line_starting(block(r.output, "Layout"), "world size"), std::string(var) + "=4"));
    CHECK(contains(r.output, "tensor 2 x context 1 x data 2 x pipeline 1"));
  }
}

TEST_CASE("paths given with --set resolve against the working directory") {
  const fs::path config = good_config("cwd_paths", "[parallel]\ntensor_mode = \"test-1d\"\n");
  const fs::path elsewhere = trellis::test::fresh_work_dir("cli_cwd_paths_elsewhere");
  trellis::test::make_fixtures(elsewhere / "data");
  const ProcessResult r = run_trellis_train(
      {config.string(), "--dry-run", "--set", "data.train=data/tokens.bin"}, {}, elsewhere);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(contains(line_starting(block(r.output, "Layout"), "train data"),
                 "data/tokens.bin (llm.c token file, 2000"));
}

TEST_CASE("a missing input file is named by its absolute path, however it was given") {
  const fs::path config = good_config("missing_abs", "[parallel]\ntensor_mode = \"test-1d\"\n");
  const fs::path work = config.parent_path();
  SUBCASE("in a config named relative to the working directory") {
    trellis::test::write_text_file(work / "rel.toml",
                                   "[data]\ntrain = \"data/nope.txt\"\n[model]\n"
                                   "init = \"llmc:nope.bin\"\n[parallel]\ntensor_mode = "
                                   "\"test-1d\"\n");
    const ProcessResult r = run_trellis_train({"rel.toml", "--dry-run"}, {}, work);
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "no such file: " + (work / "data/nope.txt").string()));
    CHECK(contains(r.output, "no such file: " + (work / "nope.bin").string()));
  }
  SUBCASE("with --set, relative to the working directory") {
    const ProcessResult r =
        run_trellis_train({config.string(), "--dry-run", "--set", "data.val=nope.txt", "--set",
                           "model.init=checkpoint:ckpt"},
                          {}, work / "fixtures");
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "no such file: " + (work / "fixtures/nope.txt").string()));
    CHECK(contains(r.output, "no such directory: " + (work / "fixtures/ckpt").string()));
  }
}

TEST_CASE("a missing schedule file is named by its absolute path") {
  const fs::path config = good_config(
      "missing_csv",
      "[launch]\nnproc = 2\n[comm]\nbackend = \"test-comm\"\n[parallel]\ntensor_mode = "
      "\"test-1d\"\nschedule = \"csv\"\npipeline = 2\n[schedule.csv]\nfile = \"missing.csv\"\n"
      "[model]\nlayers = 2\n[train]\nglobal_batch = 8\n");
  const ProcessResult r =
      run_trellis_train({config.filename().string(), "--dry-run"}, {}, config.parent_path());
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK(contains(r.output, "schedule file " + (config.parent_path() / "missing.csv").string() +
                               ": cannot read it"));
}

TEST_CASE("--dry-run names the tokenizer text files are encoded with") {
  const fs::path config = good_config("tokenizer", "[parallel]\ntensor_mode = \"test-1d\"\n");
  ProcessResult r = run_trellis_train({config.string(), "--dry-run"}, {});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(line_starting(block(r.output, "Layout"), "tokenizer") == "  tokenizer         bytes");
  CHECK(contains(line_starting(block(r.output, "Layout"), "train data"), "bytes = tokens"));

  const fs::path dir = config.parent_path() / "fixtures" / "gpt2_tokenizer";
  r = run_trellis_train(
      {config.string(), "--dry-run", "--set", "data.tokenizer=gpt2:" + dir.string()}, {});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(contains(line_starting(block(r.output, "Layout"), "tokenizer"),
                 "gpt2 BPE from " + dir.string() + " (341 tokens, 84 merges)"));
  CHECK(contains(line_starting(block(r.output, "Layout"), "train data"),
                 "bytes, encoded when training starts"));
}

TEST_CASE("a backend built before all_to_all_v may carry the expert groups of allgather only") {
  // The config check refuses it for the alltoall dispatcher (bad/comm_groups_expert_old_abi.toml);
  // the allgather dispatcher, which does not call all_to_all_v, and the groups of other
  // dimensions may use it.
  const fs::path config = good_config("expert_old_abi", R"(
[launch]
nproc = 2
[comm]
backend = "test-comm"
[comm.groups]
expert = "test-comm-abi2"
[parallel]
expert = 2
[model]
experts = 4
)");
  ProcessResult r = run_trellis_train({config.string(), "--dry-run"});
  CHECK(r.exit_code == 2);
  CHECK(contains(r.output, "before Communicator::all_to_all_v (2.3)"));
  CHECK(contains(r.output, "\"test-comm\""));  // offered among the backends that have it
  r = run_trellis_train(
      {config.string(), "--dry-run", "--set", "parallel.expert_dispatcher=allgather"});
  INFO(r.output);
  CHECK(r.exit_code == 0);
  r = run_trellis_train({config.string(), "--dry-run", "--set", "parallel.expert=1", "--set",
                         "comm.groups.data=test-comm-abi2"});
  INFO(r.output);
  CHECK(r.exit_code == 0);
}
