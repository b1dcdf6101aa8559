// The same training steps under a parallel layout and on one rank give the same numbers.
//
// Each case runs trellis-train as a user would (it launches its own ranks over the backend named
// by TRELLIS_TEST_BACKEND) and compares, step by step, the loss and the gradient norm, and the
// trained parameters from the llm.c export, which every layout writes from its shards. Cases on
// the tiny GPT-2 compare losses and norms with PyTorch's golden run directly; cases that need
// more layers (virtual stages, 4 stages, 8 ranks) compare with a one-rank run of the same config.
// Trained parameters are compared with the one-rank run's.
//
// Tolerances (tests/numerics): a layout sums the same terms in another order, so each of its
// results is within the float32 error bound of the exact one, as the one-rank run's is.
// Against PyTorch (float64): one bound; against the one-rank run: two. Losses: gpt_loss_bound;
// gradient norms: gpt_grad_norm_bound; trained parameters: trained_parameter_bounds, from the
// one-rank run's AdamW state at every step (it saves a checkpoint after each).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "adamw_history.h"
#include "config/run_config.h"
#include "error_bound.h"
#include "golden_file.h"
#include "support/process.h"
#include "support/run_outputs.h"

namespace fs = std::filesystem;
using trellis::golden::golden_path;
using trellis::golden::GoldenFile;
namespace numerics = trellis::test::numerics;

namespace {

struct RunResult {
  std::vector<double> loss, norm, lr;
  std::vector<float> exported;  // the llm.c export's values after the header
  std::map<std::string, std::vector<float>> parameters;  // the same by parameter name
  numerics::AdamwRunHistory history;                     // one-rank runs only
  std::string output;                                    // trellis-train's console
};

// What a one-rank run adds to its settings: a checkpoint after every step, all kept, for the
// AdamW state the trained parameters' bounds are computed from.
const std::vector<std::string> kEveryStepCheckpoints = {"checkpoint.every=1", "checkpoint.keep=0"};

// The tiny GPT-2 of the golden files, 5 steps, as PyTorch ran it.
std::string tiny_config(const fs::path& out) {
  std::ostringstream t;
  t << "[run]\nname = \"equivalence\"\nsteps = 5\nout_dir = \"" << out.string() << "\"\n"
    << "[comm]\ntimeout_s = 60\n"
    << "[data]\ntrain = \"" << golden_path("tiny_tokens.bin") << "\"\n"
    << "[model]\ninit = \"llmc:" << golden_path("tiny_gpt2.llmc.bin") << "\"\nseq_len = 12\n"
    << "export = \"llmc:" << (out / "final.bin").string() << "\"\n"
    << "[train]\nmicro_batch = 3\nglobal_batch = 3\n"
    << "[optim]\nschedule = \"constant\"\nlr = 1e-3\nbeta1 = 0.9\nbeta2 = 0.95\neps = 1e-8\n"
    << "weight_decay = 0.1\ngrad_clip = 1.0\n"
    << "[logging]\nprogress = false\n[device]\nthreads = 1\n";
  return t.str();
}

// A deeper model (4 layers) from random init: enough layers for 4 stages or 2 x 2 chunks.
std::string deep_config(const fs::path& out) {
  std::ostringstream t;
  t << "[run]\nname = \"equivalence\"\nsteps = 4\nseed = 7\nout_dir = \"" << out.string() << "\"\n"
    << "[comm]\ntimeout_s = 60\n"
    << "[data]\ntrain = \"" << golden_path("tiny_tokens.bin") << "\"\n"
    << "[model]\nvocab_size = 97\nseq_len = 8\nlayers = 4\nheads = 2\nhidden = 16\n"
    << "export = \"llmc:" << (out / "final.bin").string() << "\"\n"
    << "[train]\nmicro_batch = 1\nglobal_batch = 4\n"
    << "[optim]\nschedule = \"constant\"\nlr = 3e-3\n"
    << "[logging]\nprogress = false\n[device]\nthreads = 1\n";
  return t.str();
}

// Runs trellis-train; `reference` gives the model's parameter shapes for reading the export (a
// one-rank run that saved checkpoints), or nullptr when this run is that one-rank run.
RunResult run(const std::string& name, const std::string& config,
              const std::vector<std::string>& sets, const RunResult* reference) {
  const fs::path dir =
      fs::path(TRELLIS_TEST_WORK_DIR) / (trellis::test::backend_under_test() + "-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path file = dir / "run.toml";
  std::ofstream(file) << config;
  std::vector<std::string> args = {file.string(), "--set",
                                   "comm.backend=" + trellis::test::backend_under_test()};
  for (const std::string& s : sets) {
    args.push_back("--set");
    args.push_back(s);
  }
  if (reference == nullptr) {
    for (const std::string& s : kEveryStepCheckpoints) args.insert(args.end(), {"--set", s});
  }
  trellis::test::ProcessResult r = trellis::test::run_trellis_train(args);
  INFO(name << " (" << trellis::test::backend_under_test() << "):\n" << r.output);
  REQUIRE(r.exit_code == 0);
  RunResult result;
  result.output = r.output;
  result.loss = trellis::test::metric_values(dir / "metrics.jsonl", "loss");
  result.norm = trellis::test::metric_values(dir / "metrics.jsonl", "grad_norm");
  result.lr = trellis::test::metric_values(dir / "metrics.jsonl", "lr");
  result.exported = trellis::test::llmc_parameter_values(dir / "final.bin");
  if (reference == nullptr) result.history = numerics::read_adamw_history(dir / "checkpoints");
  result.parameters = numerics::read_llmc_export(dir / "final.bin",
                                                 reference ? reference->history : result.history);
  return result;
}

// `got`'s losses and norms against `loss` and `norm` (PyTorch's, `references` = 1, or the
// one-rank run's, 2: each float32 run is within a bound of the exact value), and its trained
// parameters against the one-rank run `single`'s.
void check_same(const std::string& what, const RunResult& got, const std::vector<double>& loss,
                const std::vector<double>& norm, double references, const RunResult& single,
                const std::vector<float>& initial, const numerics::AdamwSettings& settings) {
  const numerics::GptShape shape = numerics::gpt_shape(single.history);
  std::int64_t count = 0;
  for (const auto& [name, values] : single.parameters)
    count += static_cast<std::int64_t>(values.size());
  REQUIRE(got.loss.size() == loss.size());
  REQUIRE(got.norm.size() == norm.size());
  auto check = [&](const std::string& item, const numerics::Comparison& c) {
    numerics::report("test_layout_equivalence",
                     trellis::test::backend_under_test() + " " + what + " " + item, c);
    INFO(what << " " << item << ": " << c.describe());
    CHECK(c.ok());
  };
  for (std::size_t s = 0; s < loss.size(); ++s) {
    CAPTURE(s);
    check("loss", numerics::compare_scalar(got.loss[s], loss[s],
                                           references * numerics::gpt_loss_bound(shape, loss[s])));
    check("grad_norm", numerics::compare_scalar(
                           got.norm[s], norm[s],
                           references * numerics::gpt_grad_norm_bound(shape, norm[s], count)));
  }
  // The one-rank run trained: its parameters moved from where they started.
  REQUIRE(single.exported.size() == initial.size());
  double moved = 0;
  for (std::size_t i = 0; i < initial.size(); ++i)
    moved = std::max(moved, std::abs(double(single.exported[i]) - initial[i]));
  CHECK(moved > 0);
  if (&got == &single) return;
  const auto bounds = numerics::trained_parameter_bounds(single.history, single.lr, settings);
  REQUIRE(got.parameters.size() == single.parameters.size());
  for (const auto& [name, values] : single.parameters) {
    std::vector<double> bound = bounds.at(name);
    for (double& b : bound) b *= 2.0;
    check("final." + name, numerics::compare(got.parameters.at(name), values, bound));
  }
}

// Against PyTorch's five steps of the tiny GPT-2 (whose settings the golden file holds).
void check_against_golden(const std::string& name, const std::vector<std::string>& sets) {
  const GoldenFile g = GoldenFile::load(golden_path("tiny_gpt2.golden"));
  const numerics::AdamwSettings settings{g.scalar("train.beta1"), g.scalar("train.beta2"),
                                         g.scalar("train.eps")};
  std::vector<float> initial =
      trellis::test::llmc_parameter_values(golden_path("tiny_gpt2.llmc.bin"));
  // The trained parameters are compared with a one-rank run's export (tests/train holds the
  // one-rank run's parameters to PyTorch's).
  RunResult single =
      run(name + "-single",
          tiny_config(fs::path(TRELLIS_TEST_WORK_DIR) /
                      (trellis::test::backend_under_test() + "-" + name + "-single")),
          {}, nullptr);
  const fs::path dir =
      fs::path(TRELLIS_TEST_WORK_DIR) / (trellis::test::backend_under_test() + "-" + name);
  RunResult got = run(name, tiny_config(dir), sets, &single);
  const std::vector<double> loss = g.tensor("train.loss").f64(),
                            norm = g.tensor("train.grad_norm").f64();
  check_same(name + "-single", single, loss, norm, 1.0, single, initial, settings);
  check_same(name, got, loss, norm, 1.0, single, initial, settings);
}

// Against one rank running the same config, once per entry of `variants` (each a list of
// settings of the parallel run). `model_sets` change the model of every run (a layout that needs,
// say, more heads than the deeper model's two). The deeper model takes AdamW's defaults.
// Returns each variant's console output.
std::vector<std::string> check_variants_against_single(
    const std::string& name, const std::vector<std::vector<std::string>>& variants,
    const std::vector<std::string>& model_sets = {}) {
  std::vector<std::string> outputs;
  const trellis::OptimSection defaults;
  const numerics::AdamwSettings settings{defaults.beta1, defaults.beta2, defaults.eps};
  const fs::path single_dir = fs::path(TRELLIS_TEST_WORK_DIR) /
                              (trellis::test::backend_under_test() + "-" + name + "-single");
  // One step at learning rate 0 exports the initial parameters.
  std::vector<std::string> initial_sets = model_sets;
  initial_sets.insert(initial_sets.end(), {"run.steps=1", "optim.lr=0"});
  std::vector<float> initial =
      run(name + "-single", deep_config(single_dir), initial_sets, nullptr).exported;
  RunResult single = run(name + "-single", deep_config(single_dir), model_sets, nullptr);
  for (std::size_t v = 0; v < variants.size(); ++v) {
    std::string variant = name;
    if (variants.size() > 1) variant += "-v" + std::to_string(v);
    const fs::path dir =
        fs::path(TRELLIS_TEST_WORK_DIR) / (trellis::test::backend_under_test() + "-" + variant);
    std::vector<std::string> parallel_sets = model_sets;
    parallel_sets.insert(parallel_sets.end(), variants[v].begin(), variants[v].end());
    std::ostringstream settings_text;
    for (const std::string& s : variants[v]) settings_text << s << " ";
    INFO("variant " << v << ": " << settings_text.str());
    RunResult got = run(variant, deep_config(dir), parallel_sets, &single);
    check_same(variant, got, single.loss, single.norm, 2.0, single, initial, settings);
    outputs.push_back(got.output);
  }
  return outputs;
}

// Against one rank running the same config; `sets` give the layout of the parallel run. Returns
// its console output.
std::string check_against_single(const std::string& name, const std::vector<std::string>& sets,
                                 const std::vector<std::string>& model_sets = {}) {
  return check_variants_against_single(name, {sets}, model_sets).front();
}

// The data-parallel reduction's buckets and overlap change nothing but when the gradients are
// summed: one parameter per bucket, a few small parameters per bucket (1 KiB), one bucket for
// everything, reduced as backward completes them or all after backward, replicated (all-reduce)
// and distributed (reduce-scatter, zero = 1). Two microbatches per data rank, so the reduction
// waits for the last one's backward.
std::vector<std::vector<std::string>> bucket_variants(const std::vector<std::string>& layout) {
  const std::vector<std::vector<std::string>> settings = {
      {"parallel.dp_bucket_mb=0"},
      {"parallel.dp_bucket_mb=0.001"},
      {"parallel.dp_bucket_mb=1000"},
      {"parallel.dp_bucket_mb=0", "parallel.dp_overlap=false"},
      {"parallel.dp_bucket_mb=0", "optim.zero=1"},
      {"parallel.dp_bucket_mb=1000", "optim.zero=1", "parallel.dp_overlap=false"},
  };
  std::vector<std::vector<std::string>> out;
  for (const auto& s : settings) {
    std::vector<std::string> v = layout;
    v.insert(v.end(), s.begin(), s.end());
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace

TEST_CASE("tensor2") {
  check_against_golden("tensor2", {"launch.nproc=2", "parallel.tensor=2"});
}

TEST_CASE("pipeline2-1f1b") {
  check_against_golden("pipeline2-1f1b",
                       {"launch.nproc=2", "parallel.pipeline=2", "train.micro_batch=1"});
}

TEST_CASE("pipeline2-gpipe") {
  check_against_golden("pipeline2-gpipe", {"launch.nproc=2", "parallel.pipeline=2",
                                           "parallel.schedule=gpipe", "train.micro_batch=1"});
}

TEST_CASE("pipeline2-zbh1") {
  check_against_golden("pipeline2-zbh1", {"launch.nproc=2", "parallel.pipeline=2",
                                          "parallel.schedule=zbh1", "train.micro_batch=1"});
}

TEST_CASE("data3") {
  check_against_golden("data3", {"launch.nproc=3", "train.micro_batch=1"});
}

TEST_CASE("tensor2-pipeline2") {
  check_against_golden("tensor2-pipeline2", {"launch.nproc=4", "parallel.tensor=2",
                                             "parallel.pipeline=2", "train.micro_batch=1"});
}

TEST_CASE("tensor2-pipeline2-data2") {
  check_against_single("tensor2-pipeline2-data2",
                       {"launch.nproc=8", "parallel.tensor=2", "parallel.pipeline=2"});
}

TEST_CASE("interleaved-pipeline2") {
  check_against_single("interleaved-pipeline2",
                       {"launch.nproc=2", "parallel.pipeline=2", "parallel.virtual_stages=2",
                        "parallel.schedule=interleaved"});
}

TEST_CASE("zbh1-pipeline4") {
  check_against_single("zbh1-pipeline4",
                       {"launch.nproc=4", "parallel.pipeline=4", "parallel.schedule=zbh1"});
}

// Sequence parallelism: the tiny model's 12 tokens split 6 + 6, its 2 heads 1 + 1.
TEST_CASE("seq-tensor2") {
  check_against_golden("seq-tensor2",
                       {"launch.nproc=2", "parallel.tensor=2", "parallel.tensor_mode=seq"});
}

// Sequence shards [1, 6, 16] sent between stages; zbh1 defers the weight gradients, whose
// all-gathers of the LayerNorm outputs and all-reduce of the LayerNorm gradients then run in W.
TEST_CASE("seq-tensor2-pipeline2-zbh1") {
  check_against_golden("seq-tensor2-pipeline2-zbh1",
                       {"launch.nproc=4", "parallel.tensor=2", "parallel.tensor_mode=seq",
                        "parallel.pipeline=2", "parallel.schedule=zbh1", "train.micro_batch=1"});
}

// Four ranks need four heads: the deeper model with heads = 4, 8 tokens split 2 + 2 + 2 + 2.
TEST_CASE("seq-tensor4") {
  check_against_single("seq-tensor4",
                       {"launch.nproc=4", "parallel.tensor=4", "parallel.tensor_mode=seq"},
                       {"model.heads=4"});
}

// 2D on a 2 x 2 grid: sequences split by grid row need micro_batch % 2 = 0 (the tiny model's
// batch of 3 does not split), so the deeper model with two microbatches of 2.
TEST_CASE("2d-tensor4") {
  check_against_single("2d-tensor4",
                       {"launch.nproc=4", "parallel.tensor=4", "parallel.tensor_mode=2d"},
                       {"train.micro_batch=2"});
}

// Megatron's 1d at tensor 4: four heads, one per rank; vocabulary 97 padded to a multiple of 4.
TEST_CASE("1d-tensor4") {
  check_against_single("1d-tensor4", {"launch.nproc=4", "parallel.tensor=4"}, {"model.heads=4"});
}

// Four stages, one layer each, eight microbatches: every schedule at pipeline 4.
TEST_CASE("pipeline4-gpipe-mb8") {
  check_against_single("pipeline4-gpipe-mb8",
                       {"launch.nproc=4", "parallel.pipeline=4", "parallel.schedule=gpipe"},
                       {"train.global_batch=8"});
}

TEST_CASE("pipeline4-1f1b-mb8") {
  check_against_single("pipeline4-1f1b-mb8",
                       {"launch.nproc=4", "parallel.pipeline=4", "parallel.schedule=1f1b"},
                       {"train.global_batch=8"});
}

// Eight chunks of one layer, two per rank, round-robin over four stages.
TEST_CASE("interleaved-pipeline4-mb8") {
  check_against_single("interleaved-pipeline4-mb8",
                       {"launch.nproc=4", "parallel.pipeline=4", "parallel.virtual_stages=2",
                        "parallel.schedule=interleaved"},
                       {"model.layers=8", "train.global_batch=8"});
}

TEST_CASE("zbh1-pipeline2-mb8") {
  check_against_single("zbh1-pipeline2-mb8",
                       {"launch.nproc=2", "parallel.pipeline=2", "parallel.schedule=zbh1"},
                       {"train.global_batch=8"});
}

// Families x schedules x data at four ranks.
TEST_CASE("seq-tensor2-data2") {
  check_against_single("seq-tensor2-data2", {"launch.nproc=4", "parallel.tensor=2",
                                             "parallel.tensor_mode=seq", "parallel.data=2"});
}

TEST_CASE("tensor2-interleaved-pipeline2") {
  check_against_single("tensor2-interleaved-pipeline2",
                       {"launch.nproc=4", "parallel.tensor=2", "parallel.pipeline=2",
                        "parallel.virtual_stages=2", "parallel.schedule=interleaved"});
}

TEST_CASE("pipeline2-gpipe-data2-zero1") {
  check_against_single("pipeline2-gpipe-data2-zero1",
                       {"launch.nproc=4", "parallel.pipeline=2", "parallel.schedule=gpipe",
                        "parallel.data=2", "optim.zero=1"});
}

TEST_CASE("2d-tensor4-pipeline2-1f1b") {
  check_against_single("2d-tensor4-pipeline2-1f1b",
                       {"launch.nproc=8", "parallel.tensor=4", "parallel.tensor_mode=2d",
                        "parallel.pipeline=2", "parallel.schedule=1f1b"},
                       {"train.micro_batch=2", "train.global_batch=8"});
}

// Data 2 alone: every bucket of the one stage, the token table shared by embedding and head.
TEST_CASE("data2-buckets") {
  check_variants_against_single("data2-buckets", bucket_variants({"launch.nproc=2"}));
}

// Pipeline 2 x data 2 with zbh1: buckets completed by deferred weight gradients (W), the token
// table of each pipeline end in a bucket of its own, summed over the embedding group after.
TEST_CASE("pipeline2-data2-buckets") {
  check_variants_against_single(
      "pipeline2-data2-buckets",
      bucket_variants({"launch.nproc=4", "parallel.pipeline=2", "parallel.schedule=zbh1"}));
}

// Context parallelism: each sequence of 16 tokens cut into 2 x context chunks, rank i holding
// chunks i and 2c-1-i; attention across the context group by each context plugin. Four heads,
// so that a2a can trade sequence shards for heads with up to four ranks.
namespace {

const std::vector<std::string> kContextModel = {"model.seq_len=16", "model.heads=4"};

void check_context(const std::string& name, const std::vector<std::string>& sets) {
  check_against_single(name, sets, kContextModel);
}

}  // namespace

TEST_CASE("context2-ring") {
  check_context("context2-ring",
                {"launch.nproc=2", "parallel.context=2", "parallel.context_mode=ring"});
}

TEST_CASE("context2-a2a") {
  check_context("context2-a2a",
                {"launch.nproc=2", "parallel.context=2", "parallel.context_mode=a2a"});
}

TEST_CASE("context2-allgather") {
  check_context("context2-allgather",
                {"launch.nproc=2", "parallel.context=2", "parallel.context_mode=allgather"});
}

TEST_CASE("context4-ring") {
  check_context("context4-ring",
                {"launch.nproc=4", "parallel.context=4", "parallel.context_mode=ring"});
}

TEST_CASE("context4-a2a") {
  check_context("context4-a2a",
                {"launch.nproc=4", "parallel.context=4", "parallel.context_mode=a2a"});
}

TEST_CASE("context4-allgather") {
  check_context("context4-allgather",
                {"launch.nproc=4", "parallel.context=4", "parallel.context_mode=allgather"});
}

// The tensor group splits the heads of each context rank's tokens (1d), and for seq also those
// tokens between regions.
TEST_CASE("tensor2-context2") {
  check_context("tensor2-context2", {"launch.nproc=4", "parallel.tensor=2", "parallel.context=2"});
}

TEST_CASE("seq-tensor2-context2") {
  check_context("seq-tensor2-context2", {"launch.nproc=4", "parallel.tensor=2",
                                         "parallel.tensor_mode=seq", "parallel.context=2"});
}

// The 2d grid's ranks each attend over their context group (same grid position).
TEST_CASE("2d-tensor4-context2") {
  std::vector<std::string> model = kContextModel;
  model.insert(model.end(), {"train.micro_batch=2", "train.global_batch=8"});
  check_against_single(
      "2d-tensor4-context2",
      {"launch.nproc=8", "parallel.tensor=4", "parallel.tensor_mode=2d", "parallel.context=2"},
      model);
}

// Microbatches of two model chunks per rank in flight at once: the context attention keeps
// one stash per microbatch and block.
TEST_CASE("context2-interleaved-pipeline2") {
  check_context("context2-interleaved-pipeline2",
                {"launch.nproc=4", "parallel.context=2", "parallel.pipeline=2",
                 "parallel.virtual_stages=2", "parallel.schedule=interleaved"});
}

// Zero-bubble: the attention's backward runs in the input gradient (I), the deferred weight
// gradients (W) need nothing of the context group; all-gather attention, on two stages.
TEST_CASE("context2-zbh1-pipeline2") {
  check_context("context2-zbh1-pipeline2",
                {"launch.nproc=4", "parallel.context=2", "parallel.pipeline=2",
                 "parallel.schedule=zbh1", "parallel.context_mode=allgather"});
}

// Gradients reduce-scattered over the data-context group of four, each rank updating a quarter.
TEST_CASE("context2-data2-zero1") {
  check_context("context2-data2-zero1",
                {"launch.nproc=4", "parallel.context=2", "parallel.data=2", "optim.zero=1"});
}

// Mixture of experts (the deeper model with 4 experts, top 2, in blocks 0 and 2, capacity factor 1
// so that choices are dropped): a tensor-parallel run against one rank. llm.c's export holds no
// experts, so the figures compared are the metrics: loss, aux_loss and gradient norm within two
// bounds, dropped_tokens equal (the routing is discrete; every layout routes from the same
// gathered LN2 output, up to the rounding of the sums before it).
namespace {

struct MoeMetrics {
  std::vector<double> loss, aux, norm, dropped;
  std::string output;  // trellis-train's console
};

const std::vector<std::string> kMoeModel = {"model.export=\"\"", "model.experts=4", "model.top_k=2",
                                            "model.moe_every=2", "model.capacity_factor=1.0"};

MoeMetrics run_moe(const std::string& name, const std::vector<std::string>& layout) {
  const fs::path dir =
      fs::path(TRELLIS_TEST_WORK_DIR) / (trellis::test::backend_under_test() + "-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path file = dir / "run.toml";
  std::ofstream(file) << deep_config(dir);
  std::vector<std::string> args = {file.string(), "--set",
                                   "comm.backend=" + trellis::test::backend_under_test()};
  std::vector<std::string> sets = kMoeModel;
  sets.insert(sets.end(), layout.begin(), layout.end());
  for (const std::string& s : sets) args.insert(args.end(), {"--set", s});
  trellis::test::ProcessResult r = trellis::test::run_trellis_train(args);
  INFO(name << " (" << trellis::test::backend_under_test() << "):\n" << r.output);
  REQUIRE(r.exit_code == 0);
  const fs::path metrics = dir / "metrics.jsonl";
  return {trellis::test::metric_values(metrics, "loss"),
          trellis::test::metric_values(metrics, "aux_loss"),
          trellis::test::metric_values(metrics, "grad_norm"),
          trellis::test::metric_values(metrics, "dropped_tokens"), r.output};
}

// Returns the parallel run's console output.
std::string check_moe_against_single(const std::string& name,
                                     const std::vector<std::string>& layout) {
  const MoeMetrics single = run_moe(name + "-single", {});
  const MoeMetrics got = run_moe(name, layout);
  // deep_config's model: Vp 128, C 16, 2 heads, 4 layers, T 8, 4 sequences a step.
  const std::int64_t C = 16, H = 4 * C, E = 4, Vp = 128, T = 8;
  const numerics::GptShape shape{Vp, C, 2, 4, T, 4 * T};
  const std::int64_t attention = 4 * C * C + 8 * C;  // LayerNorms, QKV and projection
  const std::int64_t dense = attention + 2 * C * H + H + C;
  const std::int64_t moe = attention + E * C + E * (2 * C * H + H + C);
  const std::int64_t count = Vp * C + T * C + 2 * dense + 2 * moe + 2 * C;
  REQUIRE(got.loss.size() == single.loss.size());
  for (std::size_t s = 0; s < single.loss.size(); ++s) {
    CAPTURE(s);
    auto l = numerics::compare_scalar(got.loss[s], single.loss[s],
                                      2.0 * numerics::gpt_loss_bound(shape, single.loss[s]));
    auto a = numerics::compare_scalar(got.aux[s], single.aux[s],
                                      2.0 * numerics::gpt_loss_bound(shape, single.aux[s]));
    auto n =
        numerics::compare_scalar(got.norm[s], single.norm[s],
                                 2.0 * numerics::gpt_grad_norm_bound(shape, single.norm[s], count));
    INFO("loss: " << l.describe());
    INFO("aux: " << a.describe());
    INFO("grad_norm: " << n.describe());
    CHECK(l.ok());
    CHECK(a.ok());
    CHECK(n.ok());
    CHECK(got.dropped[s] == single.dropped[s]);
  }
  return got.output;
}

}  // namespace

TEST_CASE("moe-tensor2") {
  check_moe_against_single("moe-tensor2", {"launch.nproc=2", "parallel.tensor=2"});
}

TEST_CASE("moe-seq-tensor2") {
  check_moe_against_single("moe-seq-tensor2",
                           {"launch.nproc=2", "parallel.tensor=2", "parallel.tensor_mode=seq"});
}

// The trainer's side of MoE: blocks on two stages (the step's routing summed over the pipeline),
// and two data ranks (each microbatch's aux gradient at 1 / microbatches in the global batch).
TEST_CASE("moe-pipeline2-1f1b") {
  check_moe_against_single("moe-pipeline2-1f1b",
                           {"launch.nproc=2", "parallel.pipeline=2", "parallel.schedule=1f1b"});
}

TEST_CASE("moe-data2") {
  check_moe_against_single("moe-data2", {"launch.nproc=2", "parallel.data=2"});
}

// Full recomputation runs each MoE block's forward twice (without training, then again in
// backward): the routing is counted once, the gradients are the stored run's.
TEST_CASE("moe-recompute-full") {
  check_moe_against_single("moe-recompute-full",
                           {"train.recompute=\"full\"", "train.recompute_num_layers=2"});
}

// The expert weights' shards through ZeRO-1's flat buffers and the data group's reduction, on a
// tensor group.
TEST_CASE("moe-tensor2-data2-zero1") {
  check_moe_against_single("moe-tensor2-data2-zero1", {"launch.nproc=4", "parallel.tensor=2",
                                                       "parallel.data=2", "optim.zero=1"});
}

// Expert parallelism: the 4 experts split over an expert group inside the data dimension, each
// rank's token choices dispatched to their experts' ranks and back, expert gradients summed over
// the expert-data group. Routing, drops and the aux loss stay the sending rank's, so every count
// equals one rank's.
TEST_CASE("moe-expert2-data2") {
  check_moe_against_single("moe-expert2-data2",
                           {"launch.nproc=2", "parallel.data=2", "parallel.expert=2"});
}

TEST_CASE("moe-expert2-allgather") {
  check_moe_against_single("moe-expert2-allgather",
                           {"launch.nproc=2", "parallel.data=2", "parallel.expert=2",
                            "parallel.expert_dispatcher=\"allgather\""});
}

// One expert a rank.
TEST_CASE("moe-expert4-data4") {
  check_moe_against_single("moe-expert4-data4",
                           {"launch.nproc=4", "parallel.data=4", "parallel.expert=4"});
}

// Tensor-parallel experts inside an expert group: each tensor rank dispatches to its own peers.
TEST_CASE("moe-expert2-tensor2") {
  check_moe_against_single("moe-expert2-tensor2", {"launch.nproc=4", "parallel.tensor=2",
                                                   "parallel.data=2", "parallel.expert=2"});
}

TEST_CASE("moe-expert2-pipeline2") {
  check_moe_against_single("moe-expert2-pipeline2",
                           {"launch.nproc=4", "parallel.pipeline=2", "parallel.schedule=1f1b",
                            "parallel.data=2", "parallel.expert=2"});
}

// Two expert-data groups of two: dense gradients reduce-scattered over the data group of four,
// expert ones over their expert-data group, each with ZeRO-1's shards.
TEST_CASE("moe-expert2-data4-zero1") {
  check_moe_against_single("moe-expert2-data4-zero1", {"launch.nproc=4", "parallel.data=4",
                                                       "parallel.expert=2", "optim.zero=1"});
}

// [comm.groups]: the same layouts with dimensions moved to the other CPU backend. The backend
// under test carries the world and what is not moved; the other one its world and the groups
// named, split from it (rank_groups.cpp), all in one process.
std::string other_backend() {
  return trellis::test::backend_under_test() == "mpi" ? "ucx" : "mpi";
}

TEST_CASE("mixed-backends-tensor2-pipeline2-data2") {
  const std::string output = check_against_single(
      "mixed-backends-tensor2-pipeline2-data2",
      {"launch.nproc=8", "parallel.tensor=2", "parallel.pipeline=2",
       "comm.groups.tensor=" + other_backend(), "comm.groups.pipeline=" + other_backend(),
       "comm.groups.data=" + trellis::test::backend_under_test()});
  CHECK_MESSAGE(output.find(", " + trellis::test::backend_under_test() +
                            ", tensor and pipeline groups over " + other_backend() + ")") !=
                    std::string::npos,
                output);
}

// The expert groups split from the other backend's world (two in each data group of four), the
// expert-data groups from the data group over the backend under test.
TEST_CASE("mixed-backends-moe-expert2-data4") {
  const std::string output = check_moe_against_single(
      "mixed-backends-moe-expert2-data4", {"launch.nproc=4", "parallel.data=4", "parallel.expert=2",
                                           "comm.groups.expert=" + other_backend()});
  CHECK_MESSAGE(output.find("expert groups over " + other_backend()) != std::string::npos, output);
}
