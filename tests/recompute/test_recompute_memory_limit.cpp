// Recomputation makes a model fit a memory cap that it does not fit without: [device]
// memory_limit_mb stops a run whose tensors would pass it, with an error that names the limit, the
// tensor and the layer; recomputing the attention's activations (selective) or the blocks' (full)
// brings the same run under it, and it trains exactly as without a limit.
//
// The model makes the activations dominate: 4 sequences of 256 tokens, hidden 32, 4 heads, 4
// blocks (0.06M parameters). Each block's attention probabilities are a [4, 4, 256, 256] f32
// tensor, 4 MiB: without recomputation every block's stays until backward, and the third block's
// forward passes a 16 MiB limit. Selective keeps none of them (backward rebuilds one block's at a
// time); full keeps each block's [4, 256, 32] input only. The allocator counts tensor bytes, the
// same on every machine: its peaks for this run are 26.8 MiB (none), 14.8 MiB (selective) and
// 9.1 MiB (full, groups of one block).
#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "support/process.h"
#include "support/run_outputs.h"

namespace fs = std::filesystem;

namespace {

constexpr int kLimitMb = 16;

fs::path work_dir(const std::string& name) {
  const fs::path dir = fs::path(TRELLIS_TEST_WORK_DIR) / ("memory-limit-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// An llm.c token file of `count` tokens below 97, enough for two steps of 4 x 256.
fs::path write_tokens(const fs::path& dir, int count) {
  const fs::path file = dir / "tokens.bin";
  std::int32_t header[256] = {20240520, 1, count};
  std::ofstream out(file, std::ios::binary);
  out.write(reinterpret_cast<const char*>(header), sizeof(header));
  for (int i = 0; i < count; ++i) {
    const auto id = static_cast<std::uint16_t>((i * 37 + i / 7) % 97);
    out.write(reinterpret_cast<const char*>(&id), sizeof id);
  }
  return file;
}

struct Run {
  trellis::test::ProcessResult result;
  std::vector<double> loss, peak;
};

Run train(const std::string& name, const std::vector<std::string>& sets) {
  const fs::path dir = work_dir(name);
  const fs::path tokens = write_tokens(dir, 4200);
  std::ostringstream t;
  t << "[run]\nname = \"memory-limit\"\nsteps = 2\nseed = 7\nout_dir = \"" << dir.string() << "\"\n"
    << "[data]\ntrain = \"" << tokens.string() << "\"\n"
    << "[model]\nvocab_size = 97\nseq_len = 256\nlayers = 4\nheads = 4\nhidden = 32\n"
    << "[train]\nmicro_batch = 4\nglobal_batch = 4\n"
    << "[optim]\nschedule = \"constant\"\nlr = 3e-3\n"
    << "[logging]\nprogress = false\n"
    << "[device]\nthreads = 1\npeak_gflops = 100\n";
  std::ofstream(dir / "run.toml") << t.str();
  std::vector<std::string> args = {(dir / "run.toml").string()};
  for (const std::string& s : sets) args.insert(args.end(), {"--set", s});
  Run run;
  run.result = trellis::test::run_trellis_train(args);
  if (run.result.exit_code == 0) {
    run.loss = trellis::test::metric_values(dir / "metrics.jsonl", "loss");
    run.peak = trellis::test::metric_values(dir / "metrics.jsonl", "peak_mem_bytes");
  }
  return run;
}

const std::string kLimit = "device.memory_limit_mb=" + std::to_string(kLimitMb);
constexpr double kLimitBytes = double(kLimitMb) * (1 << 20);

}  // namespace

TEST_CASE("past [device] memory_limit_mb the run stops naming the limit, tensor and layer") {
  const Run unlimited = train("unlimited", {"train.recompute=none"});
  INFO(unlimited.result.output);
  REQUIRE(unlimited.result.exit_code == 0);
  REQUIRE(unlimited.peak.size() == 2);
  CHECK(unlimited.peak.back() > kLimitBytes);  // the premise: without a limit it needs more

  const Run limited = train("none", {"train.recompute=none", kLimit});
  INFO(limited.result.output);
  CHECK(limited.result.exit_code != 0);
  const std::string& out = limited.result.output;
  CHECK(out.find("past the memory limit of 16.00 MiB") != std::string::npos);
  CHECK(out.find("a [4, 4, 256, 256] f32 tensor") != std::string::npos);
  CHECK(std::regex_search(out, std::regex(R"(h\.\d+'s forward of microbatch 0)")));
  // What would help: recomputation, and the key that sets the limit.
  CHECK(out.find("[train] recompute = \"selective\" or \"full\"") != std::string::npos);
  CHECK(out.find("[device] memory_limit_mb") != std::string::npos);
}

TEST_CASE("with recomputation the run fits the memory limit and trains as without a limit") {
  const Run unlimited = train("unlimited", {"train.recompute=none"});
  REQUIRE(unlimited.result.exit_code == 0);
  for (const char* recompute : {"selective", "full"}) {
    const Run fits =
        train(std::string(recompute), {std::string("train.recompute=") + recompute, kLimit});
    INFO("recompute = " << recompute << ":\n" << fits.result.output);
    REQUIRE(fits.result.exit_code == 0);
    CHECK(fits.loss == unlimited.loss);
    REQUIRE(fits.peak.size() == 2);
    CHECK(fits.peak.back() <= kLimitBytes);
  }
}
