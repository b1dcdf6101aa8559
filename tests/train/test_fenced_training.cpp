// The trainer never dereferences tensor memory from host code, so it runs unchanged where tensors
// live on a GPU. Proved here without a GPU: TRELLIS_TEST_FENCED_DEVICE puts every tensor in host
// memory that is unreadable outside a kernel call (tests/fenced/fenced_device.h; the program is
// trellis-train-fenced), and a run that initialises, reads batches, clips, validates, checkpoints,
// resumes, imports and exports llm.c files must finish and agree bit for bit with the same run on
// ordinary memory.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "support/corpus.h"
#include "support/process.h"

namespace fs = std::filesystem;
using trellis::test::ProcessResult;
using trellis::test::run_trellis_train;

namespace {

const char* kFence = "TRELLIS_TEST_FENCED_DEVICE";

fs::path work_dir(const std::string& name) {
  return trellis::test::empty_dir(TRELLIS_TEST_WORK_DIR, name);
}

fs::path write_config(const fs::path& dir) {
  trellis::test::write_fox_corpus(dir / "corpus.txt");
  fs::path config = dir / "run.toml";
  // Everything the trainer does on the host: random init, text batches, clipping, validation,
  // checkpoints, the llm.c export, the trace.
  std::ofstream(config) << "[run]\nname = \"fenced\"\nsteps = 6\nout_dir = \"out\"\n"
                        << "[data]\ntrain = \"corpus.txt\"\nval = \"corpus.txt\"\nval_every = 3\n"
                        << "val_batches = 2\n"
                        << "[model]\nvocab_size = 256\nseq_len = 32\nlayers = 2\nheads = 2\n"
                        << "hidden = 32\nexport = \"llmc:final.bin\"\n"
                        << "[train]\nmicro_batch = 2\nglobal_batch = 8\n"
                        << "[optim]\nlr = 3e-3\ngrad_clip = 0.5\n"
                        << "[checkpoint]\nevery = 3\n"
                        << "[logging]\ntrace = \"trace.json\"\n";
  return config;
}

std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The metrics lines without the fields that depend on timing or the allocator.
std::vector<std::string> numerics(const fs::path& metrics) {
  std::vector<std::string> out;
  std::ifstream in(metrics);
  for (std::string line; std::getline(in, line);) {
    std::string kept;
    for (const char* key : {"\"step\":", "\"loss\":", "\"grad_norm\":", "\"val_loss\":"}) {
      const auto at = line.find(key);
      if (at == std::string::npos) continue;
      kept += line.substr(at, line.find_first_of(",}", at) - at) + " ";
    }
    out.push_back(kept);
  }
  return out;
}

ProcessResult train(const fs::path& dir, std::vector<std::string> args, bool fenced) {
  args.insert(args.begin(), (dir / "run.toml").string());
  std::map<std::string, std::optional<std::string>> env;
  env[kFence] = fenced ? std::optional<std::string>("256") : std::nullopt;
  return run_trellis_train(args, env, dir);
}

}  // namespace

TEST_CASE("on the fenced device a run trains, checkpoints and exports exactly as on host memory") {
  const fs::path plain = work_dir("fence_plain"), fenced = work_dir("fence_on");
  write_config(plain);
  write_config(fenced);
  ProcessResult a = train(plain, {}, false);
  INFO(a.output);
  REQUIRE(a.exit_code == 0);
  ProcessResult b = train(fenced, {}, true);
  INFO(b.output);
  REQUIRE(b.exit_code == 0);
  CHECK(b.output.find("fenced test device") != std::string::npos);

  const std::vector<std::string> want = numerics(plain / "out" / "metrics.jsonl");
  REQUIRE(want.size() == 6);
  CHECK(want[2].find("val_loss") != std::string::npos);
  CHECK(numerics(fenced / "out" / "metrics.jsonl") == want);
  const std::string exported = read_file(plain / "out" / "final.bin");
  CHECK(exported.size() > 1024);
  CHECK(read_file(fenced / "out" / "final.bin") == exported);
  for (const char* step : {"step-00000003", "step-00000006"}) {
    const fs::path a_dir = plain / "out" / "checkpoints" / step;
    const fs::path b_dir = fenced / "out" / "checkpoints" / step;
    REQUIRE(fs::exists(b_dir / "rank-00000.bin"));
    CHECK(read_file(b_dir / "rank-00000.bin") == read_file(a_dir / "rank-00000.bin"));
  }

  SUBCASE("resuming from the step-3 checkpoint on the fenced device repeats steps 4 to 6") {
    fs::remove_all(fenced / "out" / "checkpoints" / "step-00000006");
    ProcessResult r = train(fenced, {"--set", "checkpoint.resume=true"}, true);
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(r.output.find("resume:") != std::string::npos);
    CHECK(numerics(fenced / "out" / "metrics.jsonl") == want);
    CHECK(read_file(fenced / "out" / "final.bin") == exported);
  }
  SUBCASE("llm.c and checkpoint initialisation on the fenced device match host memory") {
    for (const std::string& init :
         {"llmc:" + (plain / "out" / "final.bin").string(),
          "checkpoint:" + (plain / "out" / "checkpoints" / "step-00000003").string()}) {
      // Into another directory: the first runs' files are the inputs.
      const std::vector<std::string> args = {
          "--set", "model.init=" + init, "--set", "run.steps=2",
          "--set", "run.out_dir=again",  "--set", "model.export=llmc:again/final.bin"};
      ProcessResult p = train(plain, args, false);
      ProcessResult f = train(fenced, args, true);
      INFO(init, p.output, f.output);
      REQUIRE(p.exit_code == 0);
      REQUIRE(f.exit_code == 0);
      CHECK(numerics(fenced / "again" / "metrics.jsonl") ==
            numerics(plain / "again" / "metrics.jsonl"));
      CHECK(read_file(fenced / "again" / "final.bin") == read_file(plain / "again" / "final.bin"));
    }
  }
}

TEST_CASE("every layer family on the fenced device trains as on host memory (one rank)") {
  // seq and 2d on one rank still run their own code: the sequence reordering, the 2d family's
  // grid operations and its LM head's loss.
  for (const std::string mode : {"seq", "2d"}) {
    const fs::path plain = work_dir("fence_plain_" + mode), fenced = work_dir("fence_on_" + mode);
    write_config(plain);
    write_config(fenced);
    const std::vector<std::string> args = {"--set", "parallel.tensor_mode=" + mode,
                                           "--set", "run.steps=3",
                                           "--set", "checkpoint.every=0"};
    ProcessResult a = train(plain, args, false);
    ProcessResult b = train(fenced, args, true);
    INFO(mode, a.output, b.output);
    REQUIRE(a.exit_code == 0);
    REQUIRE(b.exit_code == 0);
    CHECK(numerics(fenced / "out" / "metrics.jsonl") == numerics(plain / "out" / "metrics.jsonl"));
    CHECK(read_file(fenced / "out" / "final.bin") == read_file(plain / "out" / "final.bin"));
  }
}

TEST_CASE("the fenced device is a one-rank cpu test tool: other uses are bad input") {
  const fs::path dir = work_dir("fence_misuse");
  write_config(dir);
  std::map<std::string, std::optional<std::string>> env;
  env[kFence] = "lots";
  ProcessResult bad = run_trellis_train({(dir / "run.toml").string()}, env, dir);
  CHECK(bad.exit_code == 2);
  CHECK(bad.output.find("TRELLIS_TEST_FENCED_DEVICE is 'lots'") != std::string::npos);
}
