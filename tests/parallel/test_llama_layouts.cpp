// A LLaMA-style model ([model] arch = "llama": RMSNorm, SwiGLU, rotary positions, grouped-query
// attention, no biases, an untied head) trained by trellis-train under parallel layouts gives the
// one-rank run's losses and gradient norms, step by step, within twice the float32 bound of each
// (both runs are within one bound of the exact values). The layouts cut what LLaMA adds: key/value
// heads split over the tensor group, rotary positions at each token's true position under
// sequence and context parallelism, the untied head on the last pipeline stage apart from the
// token table on the first, and the distributed optimizer over both. Every gradient of the
// families at tensor 2 and 4 is compared with one rank's by family_probe --llama.
//
// The "llama-golden-*" cases start from PyTorch's tiny LLaMA (tests/golden/data/tiny_llama.hf,
// whose query and key weights are large enough that the attention pattern, and so every
// rotary position, moves the loss well past the bound) and train the golden file's five AdamW
// steps: each layout's losses and gradient norms must be PyTorch's, as the GPT-2 suite's are.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "error_bound.h"
#include "golden_file.h"
#include "support/process.h"
#include "support/run_outputs.h"

namespace fs = std::filesystem;
namespace numerics = trellis::test::numerics;

namespace {

// Vp 128, C 16, 4 heads sharing 2 key/value heads, 4 layers, F 48, T 16, 4 sequences a step.
constexpr std::int64_t kVp = 128, kC = 16, kHeads = 4, kKvHeads = 2, kLayers = 4, kF = 48, kT = 16,
                       kSequences = 4;

std::string llama_config(const fs::path& out) {
  std::ostringstream t;
  t << "[run]\nname = \"llama\"\nsteps = 4\nseed = 7\nout_dir = \"" << out.string() << "\"\n"
    << "[comm]\ntimeout_s = 60\n"
    << "[data]\ntrain = \"" << trellis::golden::golden_path("tiny_tokens.bin") << "\"\n"
    << "[model]\narch = \"llama\"\nvocab_size = 97\nseq_len = " << kT << "\nlayers = " << kLayers
    << "\nheads = " << kHeads << "\nkv_heads = " << kKvHeads << "\nhidden = " << kC
    << "\nffn_hidden = " << kF << "\nrope_theta = 500.0\n"
    << "[train]\nmicro_batch = 1\nglobal_batch = " << kSequences << "\n"
    << "[optim]\nschedule = \"constant\"\nlr = 3e-3\n"
    << "[logging]\nprogress = false\n[device]\nthreads = 1\n";
  return t.str();
}

struct Metrics {
  std::vector<double> loss, norm;
  std::string output;  // trellis-train's console
};

Metrics run_llama(const std::string& name, const std::vector<std::string>& layout) {
  const fs::path dir =
      fs::path(TRELLIS_TEST_WORK_DIR) / (trellis::test::backend_under_test() + "-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "run.toml") << llama_config(dir);
  std::vector<std::string> args = {(dir / "run.toml").string(), "--set",
                                   "comm.backend=" + trellis::test::backend_under_test()};
  for (const std::string& s : layout) args.insert(args.end(), {"--set", s});
  const trellis::test::ProcessResult r = trellis::test::run_trellis_train(args);
  INFO(name << " (" << trellis::test::backend_under_test() << "):\n" << r.output);
  REQUIRE(r.exit_code == 0);
  return {trellis::test::metric_values(dir / "metrics.jsonl", "loss"),
          trellis::test::metric_values(dir / "metrics.jsonl", "grad_norm"), r.output};
}

void check_llama(const std::string& name, const std::vector<std::string>& layout) {
  const Metrics single = run_llama("llama-" + name + "-single", {});
  const Metrics got = run_llama("llama-" + name, layout);
  const numerics::LlamaShape shape{kVp, kC, kHeads, kKvHeads, kF, kLayers, kT, kSequences * kT};
  // wte and lm_head, per block two RMSNorms, Q, K and V, the projection and the SwiGLU MLP,
  // the final RMSNorm.
  const std::int64_t kv = kKvHeads * (kC / kHeads);
  const std::int64_t block = 2 * kC + kC * kC + 2 * kv * kC + kC * kC + 3 * kC * kF;
  const std::int64_t count = 2 * kVp * kC + kLayers * block + kC;
  REQUIRE(single.loss.size() == 4);
  REQUIRE(got.loss.size() == single.loss.size());
  REQUIRE(got.norm.size() == single.norm.size());
  for (std::size_t s = 0; s < single.loss.size(); ++s) {
    CAPTURE(s);
    auto l = numerics::compare_scalar(got.loss[s], single.loss[s],
                                      2.0 * numerics::llama_loss_bound(shape, single.loss[s]));
    auto n = numerics::compare_scalar(
        got.norm[s], single.norm[s],
        2.0 * numerics::llama_grad_norm_bound(shape, single.norm[s], count));
    numerics::report("test_llama_layouts", trellis::test::backend_under_test() + " " + name, l);
    INFO("loss: " << l.describe());
    INFO("grad_norm: " << n.describe());
    CHECK(l.ok());
    CHECK(n.ok());
  }
  // The run trained: the loss moved.
  CHECK(single.loss.back() != single.loss.front());
}

// PyTorch's five steps of the tiny LLaMA ("gqa." of tiny_llama.golden: 4 heads sharing 2
// key/value heads, rope theta 500000) under `layout`, from its Hugging Face directory.
void check_llama_golden(const std::string& name, const std::vector<std::string>& layout) {
  using trellis::golden::golden_path;
  const trellis::golden::GoldenFile g =
      trellis::golden::GoldenFile::load(golden_path("tiny_llama.golden"));
  const fs::path dir = fs::path(TRELLIS_TEST_WORK_DIR) /
                       (trellis::test::backend_under_test() + "-llama-golden-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  const auto n = [&](const std::string& key) { return static_cast<std::int64_t>(g.scalar(key)); };
  const std::int64_t B = n("B"), T = n("T");
  std::ostringstream t;
  t << "[run]\nname = \"llama-golden\"\nsteps = 5\nout_dir = \"" << dir.string() << "\"\n"
    << "[comm]\ntimeout_s = 60\n"
    << "[data]\ntrain = \"" << golden_path("tiny_tokens.bin") << "\"\n"
    << "[model]\ninit = \"hf:" << golden_path("tiny_llama.hf") << "\"\nseq_len = " << T << "\n"
    << "[train]\nmicro_batch = " << B << "\nglobal_batch = " << B << "\n"
    << "[optim]\nschedule = \"constant\"\nlr = 1e-3\nbeta1 = 0.9\nbeta2 = 0.95\neps = 1e-8\n"
    << "weight_decay = 0.1\ngrad_clip = 1.0\n"
    << "[logging]\nprogress = false\n[device]\nthreads = 1\n";
  std::ofstream(dir / "run.toml") << t.str();
  std::vector<std::string> args = {(dir / "run.toml").string(), "--set",
                                   "comm.backend=" + trellis::test::backend_under_test()};
  for (const std::string& s : layout) args.insert(args.end(), {"--set", s});
  const trellis::test::ProcessResult r = trellis::test::run_trellis_train(args);
  INFO(name << " (" << trellis::test::backend_under_test() << "):\n" << r.output);
  REQUIRE(r.exit_code == 0);
  const std::vector<double> loss = trellis::test::metric_values(dir / "metrics.jsonl", "loss");
  const std::vector<double> norm = trellis::test::metric_values(dir / "metrics.jsonl", "grad_norm");
  const std::vector<double> want_loss = g.tensor("gqa.train.loss").f64();
  const std::vector<double> want_norm = g.tensor("gqa.train.grad_norm").f64();
  REQUIRE(loss.size() == want_loss.size());
  REQUIRE(norm.size() == want_norm.size());
  const std::int64_t C = n("gqa.C"), heads = n("gqa.NH"), kv = n("gqa.KV"), F = n("gqa.F"),
                     L = n("gqa.L"), Vp = n("Vp");
  const numerics::LlamaShape shape{Vp, C, heads, kv, F, L, T, B * T};
  const std::int64_t block = 2 * C + C * C + 2 * kv * (C / heads) * C + C * C + 3 * C * F;
  const std::int64_t count = 2 * Vp * C + L * block + C;
  for (std::size_t s = 0; s < want_loss.size(); ++s) {
    CAPTURE(s);
    auto l = numerics::compare_scalar(loss[s], want_loss[s],
                                      numerics::llama_loss_bound(shape, want_loss[s]));
    auto gn = numerics::compare_scalar(norm[s], want_norm[s],
                                       numerics::llama_grad_norm_bound(shape, want_norm[s], count));
    numerics::report("test_llama_layouts", trellis::test::backend_under_test() + " golden " + name,
                     l);
    INFO("loss: " << l.describe());
    INFO("grad_norm: " << gn.describe());
    CHECK(l.ok());
    CHECK(gn.ok());
  }
}

}  // namespace

TEST_CASE("llama-golden-single") {
  check_llama_golden("single", {});
}

// Rotary positions of the chunks each context rank holds (two runs of positions), the tensor
// group sharding those tokens and splitting the key/value heads.
TEST_CASE("llama-golden-seq-tensor2-context2") {
  check_llama_golden("seq-tensor2-context2", {"launch.nproc=4", "parallel.tensor=2",
                                              "parallel.tensor_mode=seq", "parallel.context=2"});
}

TEST_CASE("llama-golden-tensor2-pipeline2") {
  check_llama_golden("tensor2-pipeline2",
                     {"launch.nproc=4", "parallel.tensor=2", "parallel.pipeline=2"});
}

// Four context ranks, each holding two chunks of every sequence (the golden model's 12 tokens do
// not split into 8 chunks).
TEST_CASE("llama-context4-a2a") {
  check_llama("context4-a2a",
              {"launch.nproc=4", "parallel.context=4", "parallel.context_mode=a2a"});
}

// Zero-bubble's split backward and the distributed optimizer over the untied head and table.
TEST_CASE("llama-zbh1-pipeline2-data2-zero1") {
  check_llama("zbh1-pipeline2-data2-zero1",
              {"launch.nproc=4", "parallel.pipeline=2", "parallel.schedule=zbh1", "parallel.data=2",
               "optim.zero=1"});
}

// Interleaved stages with selective recomputation of attention (rotary positions included).
TEST_CASE("llama-interleaved-recompute") {
  check_llama("interleaved-recompute",
              {"launch.nproc=2", "parallel.pipeline=2", "parallel.schedule=interleaved",
               "parallel.virtual_stages=2", "train.recompute=\"selective\""});
}

// [logging] sample_every for LLaMA: the ranks write their shards as a checkpoint, rank 0 decodes
// it with the run's architecture. Samples repeat from run to run (seeded by the run and step) and
// do not change the training.
TEST_CASE("llama-sample-tensor2-pipeline2") {
  const std::vector<std::string> layout = {"launch.nproc=4", "parallel.tensor=2",
                                           "parallel.pipeline=2", "logging.sample_every=2",
                                           "logging.sample_tokens=6"};
  const Metrics first = run_llama("llama-sample-a", layout);
  const Metrics second = run_llama("llama-sample-b", layout);
  const auto samples = [](const std::string& output) {
    std::string out;
    for (std::size_t at = output.find("sample after step"); at != std::string::npos;
         at = output.find("sample after step", at + 1)) {
      out += output.substr(at, output.find('\n', output.find('\n', at) + 1) - at) + "\n";
    }
    return out;
  };
  INFO(first.output);
  CHECK(first.output.find("sample after step 2") != std::string::npos);
  CHECK(first.output.find("sample after step 4") != std::string::npos);
  CHECK(samples(first.output) == samples(second.output));
  CHECK(first.loss == second.loss);
}
