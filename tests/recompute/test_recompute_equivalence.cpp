// Activation recomputation changes memory and time, never the numbers.
//
// Each case trains a small model in one layout with [train] recompute = "none", then in the same
// layout with each recomputation setting, and requires the losses, the gradient norms and the
// trained parameters (the llm.c export, byte for byte) to be EXACTLY the run without
// recomputation's. No tolerance: recomputation runs the same kernels on the same inputs in the
// same order (a recomputed forward repeats the stashing forward, and the backward consumes what
// it rebuilt as it would the stash), so any difference, however small, is a bug. Every run writes
// a trace, which shows that the recomputation happened as configured: on every rank, each forward
// is recomputed once per group (full) or per block's attention (selective), never without
// recomputation, each time inside the backward (B, or I under split backward) of its microbatch.
//
// Settings: selective; full with groups of 1 and of 2 blocks (uniform; a chunk of 3 or 5 blocks
// ends with a short group); full recomputing the first block of each chunk only (block).
// Layouts: one rank, tensor x pipeline x data with ZeRO-1, zbh1's split backward, interleaved
// virtual stages, the seq and 2d families, context parallelism alone and with tensor. A further
// case saves a checkpoint with one setting and resumes it with another.
//
// Each case runs trellis-train as a user would, over the backend TRELLIS_TEST_BACKEND names.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <sstream>

#include "checkpoint/checkpoint_directory.h"
#include "golden_file.h"
#include "support/process.h"
#include "support/recompute_trace.h"
#include "support/run_outputs.h"

namespace fs = std::filesystem;
using trellis::golden::golden_path;

namespace {

// A 4-layer GPT from random init, 3 steps of 4 sequences of 8 tokens: small enough for 8 ranks
// on two cores. `sets` (model and layout) adjust it.
std::string config(const fs::path& out) {
  std::ostringstream t;
  t << "[run]\nname = \"recompute\"\nsteps = 3\nseed = 7\nout_dir = \"" << out.string() << "\"\n"
    << "[comm]\ntimeout_s = 60\n"
    << "[data]\ntrain = \"" << golden_path("tiny_tokens.bin") << "\"\n"
    << "[model]\nvocab_size = 97\nseq_len = 8\nlayers = 4\nheads = 2\nhidden = 16\n"
    << "export = \"llmc:" << (out / "final.bin").string() << "\"\n"
    << "[train]\nmicro_batch = 1\nglobal_batch = 4\n"
    << "[optim]\nschedule = \"constant\"\nlr = 3e-3\n"
    << "[logging]\nprogress = false\n"
    // peak_gflops: no start-up probe of the device's speed, which MFU alone needs.
    << "[device]\nthreads = 1\npeak_gflops = 100\n";
  return t.str();
}

struct Run {
  fs::path dir;
  std::vector<double> steps, loss, norm;
  std::map<int, trellis::test::RankRecomputation> recomputation;  // by rank, from the trace
  std::string exported;                                           // the llm.c export's bytes
};

std::string file_bytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot read " << file);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// trellis-train in a fresh work directory `name` (or the one that holds it, `keep`), with the
// config above and `sets` on top.
Run train(const std::string& name, const std::vector<std::string>& sets, bool keep = false) {
  Run run;
  run.dir = fs::path(TRELLIS_TEST_WORK_DIR) / (trellis::test::backend_under_test() + "-" + name);
  if (!keep) fs::remove_all(run.dir);
  fs::create_directories(run.dir);
  const fs::path file = run.dir / "run.toml";
  std::ofstream(file) << config(run.dir);
  std::vector<std::string> args = {file.string(), "--set",
                                   "comm.backend=" + trellis::test::backend_under_test(), "--set",
                                   "logging.trace=trace.json"};
  for (const std::string& s : sets) args.insert(args.end(), {"--set", s});
  const trellis::test::ProcessResult r = trellis::test::run_trellis_train(args);
  INFO(name << " (" << trellis::test::backend_under_test() << "):\n" << r.output);
  REQUIRE(r.exit_code == 0);
  const fs::path metrics = run.dir / "metrics.jsonl";
  run.steps = trellis::test::metric_values(metrics, "step");
  run.loss = trellis::test::metric_values(metrics, "loss");
  run.norm = trellis::test::metric_values(metrics, "grad_norm");
  run.recomputation = trellis::test::read_recomputation(run.dir / "trace.json");
  run.exported = file_bytes(run.dir / "final.bin");
  return run;
}

// `got` is `want` exactly: every step's loss and gradient norm (`want`'s from its step
// `first_step` on) and the exported parameters.
void check_identical(const Run& got, const Run& want, std::size_t first_step = 0) {
  REQUIRE(!got.loss.empty());
  REQUIRE(want.loss.size() == first_step + got.loss.size());
  REQUIRE(want.norm.size() == want.loss.size());
  REQUIRE(got.norm.size() == got.loss.size());
  for (std::size_t s = 0; s < got.loss.size(); ++s) {
    CAPTURE(s);
    CHECK(got.loss[s] == want.loss[first_step + s]);
    CHECK(got.norm[s] == want.norm[first_step + s]);
  }
  REQUIRE(got.exported.size() == want.exported.size());
  std::size_t first_difference = got.exported.size();
  for (std::size_t i = 0; i < got.exported.size() && first_difference == got.exported.size(); ++i) {
    if (got.exported[i] != want.exported[i]) first_difference = i;
  }
  INFO("the exports first differ at byte " << first_difference << " of " << got.exported.size());
  CHECK(first_difference == got.exported.size());
}

// A recomputation setting, the slices its trace shows and how many per forward of a chunk of
// `blocks` blocks.
struct RecomputeSetting {
  std::string name;
  std::vector<std::string> sets;
  std::string slice;  // a regular expression for the names of its recompute slices
  int (*slices_per_forward)(int blocks);
};

const std::string kGroupSlice = R"(recompute h\.\d+(-h\.\d+)?)";

const std::vector<RecomputeSetting> kRecomputeSettings = {
    {"selective",
     {"train.recompute=selective"},
     R"(recompute h\.\d+ attention)",
     [](int blocks) { return blocks; }},
    {"full-uniform1",
     {"train.recompute=full", "train.recompute_method=uniform", "train.recompute_num_layers=1"},
     kGroupSlice,
     [](int blocks) { return blocks; }},
    {"full-uniform2",
     {"train.recompute=full", "train.recompute_method=uniform", "train.recompute_num_layers=2"},
     kGroupSlice,
     [](int blocks) { return (blocks + 1) / 2; }},
    {"full-block1",
     {"train.recompute=full", "train.recompute_method=block", "train.recompute_num_layers=1"},
     kGroupSlice,
     [](int) { return 1; }},
};

// Every rank of `run` recomputed `per_forward` times for each of its forwards, each slice named
// as `slice` says and inside a backward of its microbatch.
void check_recomputation(const Run& run, int per_forward, const std::string& slice) {
  REQUIRE(!run.recomputation.empty());
  const std::regex name(slice);
  for (const auto& [rank, r] : run.recomputation) {
    CAPTURE(rank);
    CHECK(r.forwards > 0);
    CHECK(r.recomputes.size() == static_cast<std::size_t>(per_forward * r.forwards));
    for (const std::string& n : r.recomputes) {
      INFO("slice: " << n);
      CHECK(std::regex_match(n, name));
    }
    std::ostringstream outside;
    for (const std::string& n : r.outside_backward) outside << n << "; ";
    INFO("outside any backward of their microbatch: " << outside.str());
    CHECK(r.outside_backward.empty());
  }
}

// The run without recomputation in `layout` (chunks of `blocks` blocks), then one per setting,
// each identical to it.
void check_recompute_changes_nothing(const std::string& name,
                                     const std::vector<std::string>& layout, int blocks) {
  std::vector<std::string> sets = layout;
  sets.push_back("train.recompute=none");
  const Run none = train(name + "-none", sets);
  REQUIRE(none.loss.size() == 3);
  check_recomputation(none, 0, "");
  for (const RecomputeSetting& setting : kRecomputeSettings) {
    sets = layout;
    sets.insert(sets.end(), setting.sets.begin(), setting.sets.end());
    INFO("recompute: " << setting.name);
    const Run got = train(name + "-" + setting.name, sets);
    check_identical(got, none);
    check_recomputation(got, setting.slices_per_forward(blocks), setting.slice);
  }
}

}  // namespace

// Five blocks in one chunk: groups of 2 are 2 + 2 + 1.
TEST_CASE("single") {
  check_recompute_changes_nothing("single", {"model.layers=5"}, 5);
}

// Megatron's 3D layout on 8 ranks, 1f1b, the optimizer state split over the data group.
TEST_CASE("tensor2-pipeline2-data2-zero1") {
  check_recompute_changes_nothing("tensor2-pipeline2-data2-zero1",
                                  {"launch.nproc=8", "parallel.tensor=2", "parallel.pipeline=2",
                                   "parallel.schedule=1f1b", "optim.zero=1"},
                                  2);
}

// Split backward: the input gradient (I) recomputes, the weight gradient (W) uses what it left.
// Six layers: chunks of 3 blocks, groups of 2 are 2 + 1.
TEST_CASE("zbh1-pipeline2") {
  check_recompute_changes_nothing(
      "zbh1-pipeline2",
      {"launch.nproc=2", "parallel.pipeline=2", "parallel.schedule=zbh1", "model.layers=6"}, 3);
}

// Four chunks of 2 blocks, two per rank, microbatches of both in flight.
TEST_CASE("interleaved-pipeline2") {
  check_recompute_changes_nothing(
      "interleaved-pipeline2",
      {"launch.nproc=2", "parallel.pipeline=2", "parallel.virtual_stages=2",
       "parallel.schedule=interleaved", "model.layers=8"},
      2);
}

TEST_CASE("seq-tensor2") {
  check_recompute_changes_nothing(
      "seq-tensor2", {"launch.nproc=2", "parallel.tensor=2", "parallel.tensor_mode=seq"}, 4);
}

// The 2d grid splits each microbatch's sequences by grid row: two per microbatch.
TEST_CASE("2d-tensor4") {
  check_recompute_changes_nothing(
      "2d-tensor4",
      {"launch.nproc=4", "parallel.tensor=4", "parallel.tensor_mode=2d", "train.micro_batch=2"}, 4);
}

// Context parallelism: 16 tokens in 4 chunks of 4, four heads (a2a trades tokens for heads),
// attention across the context group of 2 by the plugin `mode`, the tensor group `tensor` wide.
namespace {

void check_context2(const std::string& mode, int tensor = 1) {
  const std::string ranks = std::to_string(2 * tensor);
  const std::string name =
      (tensor > 1 ? "tensor" + std::to_string(tensor) + "-" : "") + "context2-" + mode;
  check_recompute_changes_nothing(
      name,
      {"launch.nproc=" + ranks, "parallel.tensor=" + std::to_string(tensor), "parallel.context=2",
       "parallel.context_mode=" + mode, "model.seq_len=16", "model.heads=4"},
      4);
}

}  // namespace

TEST_CASE("context2-ring") {
  check_context2("ring");
}

TEST_CASE("context2-a2a") {
  check_context2("a2a");
}

TEST_CASE("context2-allgather") {
  check_context2("allgather");
}

TEST_CASE("tensor2-context2-ring") {
  check_context2("ring", 2);
}

// A checkpoint saved with one setting resumes under another and the run goes on exactly as the
// uninterrupted run: 4 steps, a checkpoint after step 2, on pipeline 2 x data 2 with ZeRO-1.
TEST_CASE("checkpoint-pipeline2-data2-zero1") {
  const std::vector<std::string> layout = {"launch.nproc=4",     "parallel.pipeline=2",
                                           "optim.zero=1",       "run.steps=4",
                                           "checkpoint.every=2", "checkpoint.keep=0"};
  const std::vector<std::string> none = {"train.recompute=none"};
  const std::vector<std::string> full = {"train.recompute=full", "train.recompute_num_layers=2"};
  auto with = [&](const std::vector<std::string>& setting) {
    std::vector<std::string> sets = layout;
    sets.insert(sets.end(), setting.begin(), setting.end());
    return sets;
  };
  const Run uninterrupted = train("checkpoint-none", with(none));
  REQUIRE(uninterrupted.loss.size() == 4);
  const Run uninterrupted_full = train("checkpoint-full", with(full));
  check_identical(uninterrupted_full, uninterrupted);

  // Resumes from `from`'s step-2 checkpoint with `setting`: steps 3 and 4, as uninterrupted.
  auto check_resumed = [&](const Run& from, const std::string& name,
                           const std::vector<std::string>& setting) {
    const fs::path dir =
        fs::path(TRELLIS_TEST_WORK_DIR) / (trellis::test::backend_under_test() + "-" + name);
    fs::remove_all(dir);
    fs::create_directories(dir / "checkpoints");
    const std::string step2 = trellis::step_directory_name(2);
    fs::copy(from.dir / "checkpoints" / step2, dir / "checkpoints" / step2,
             fs::copy_options::recursive);
    std::vector<std::string> sets = with(setting);
    sets.push_back("checkpoint.resume=true");
    const Run resumed = train(name, sets, true);
    CHECK(resumed.steps == std::vector<double>{3, 4});
    check_identical(resumed, uninterrupted, 2);
  };
  check_resumed(uninterrupted_full, "checkpoint-full-resumed-none", none);
  check_resumed(uninterrupted, "checkpoint-none-resumed-full", full);
}
