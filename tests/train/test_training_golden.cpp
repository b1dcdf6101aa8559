// Five AdamW steps of the tiny GPT-2 from its llm.c checkpoint, as trellis-train runs them from a
// TOML file, against PyTorch: the loss and the (pre-clip) gradient norm of every step, and every
// parameter after the last step, read back from the llm.c export.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "config/config_loader.h"
#include "golden_file.h"
#include "kernels/cpu/cpu_kernels.h"
#include "model/llmc_checkpoint.h"
#include "train/trainer.h"

using namespace trellis;
namespace fs = std::filesystem;

namespace {

std::vector<double> field(const fs::path& metrics, const std::string& name) {
  std::ifstream in(metrics);
  std::vector<double> values;
  std::string line;
  while (std::getline(in, line)) {
    const nlohmann::json record = nlohmann::json::parse(line);
    REQUIRE(record.contains(name));
    values.push_back(record.at(name).get<double>());
  }
  return values;
}

ResolvedRun tiny_run(const fs::path& work, int threads, const std::string& extra = "") {
  const golden::GoldenFile g = golden::GoldenFile::load(golden::golden_path("tiny_gpt2.golden"));
  std::ostringstream toml;
  toml << "[run]\nname = \"golden\"\nsteps = 5\nout_dir = \"" << (work / "out").string() << "\"\n"
       << "[model]\ninit = \"llmc:" << golden::golden_path("tiny_gpt2.llmc.bin") << "\"\n"
       << "seq_len = " << g.scalar("T") << "\n"
       << "export = \"llmc:" << (work / "out" / "final.bin").string() << "\"\n"
       << "[data]\ntrain = \"" << golden::golden_path("tiny_tokens.bin") << "\"\n"
       << "[train]\nmicro_batch = " << g.scalar("B") << "\nglobal_batch = " << g.scalar("B") << "\n"
       << "[optim]\nschedule = \"constant\"\nlr = " << g.tensor("train.lr").f64()[0]
       << "\nbeta1 = " << g.scalar("train.beta1") << "\nbeta2 = " << g.scalar("train.beta2")
       << "\neps = " << g.scalar("train.eps")
       << "\nweight_decay = " << g.scalar("train.weight_decay")
       << "\ngrad_clip = " << g.scalar("train.grad_clip") << "\n"
       << "[logging]\nprogress = false\n"
       << "[device]\nthreads = " << threads << "\n"
       << extra;
  fs::create_directories(work);
  return load_run_text(toml.str(), work / "run.toml", {}, RunEnvironment{});
}

}  // namespace

TEST_CASE("five training steps match PyTorch: losses, gradient norms, final parameters") {
  const golden::GoldenFile g = golden::GoldenFile::load(golden::golden_path("tiny_gpt2.golden"));
  for (int threads : {1, 2}) {
    CAPTURE(threads);
    fs::path work = fs::path(TRELLIS_TEST_WORK_DIR) / ("threads" + std::to_string(threads));
    fs::remove_all(work);
    ResolvedRun run = tiny_run(work, threads);
    std::FILE* devnull = std::fopen("/dev/null", "w");
    {
      Trainer trainer(run, devnull);
      TrainSummary summary = trainer.train();
      CHECK(summary.steps == 5);
    }
    std::fclose(devnull);

    const fs::path metrics = work / "out" / "metrics.jsonl";
    std::vector<double> loss = field(metrics, "loss");
    std::vector<double> norm = field(metrics, "grad_norm");
    std::vector<double> want_loss = g.tensor("train.loss").f64();
    std::vector<double> want_norm = g.tensor("train.grad_norm").f64();
    REQUIRE(loss.size() == want_loss.size());
    for (std::size_t s = 0; s < loss.size(); ++s) {
      CAPTURE(s);
      CHECK(std::abs(loss[s] - want_loss[s]) <= 1e-5 * want_loss[s]);
      CHECK(std::abs(norm[s] - want_norm[s]) <= 1e-5 * want_norm[s]);
    }

    // The export holds the trained parameters: compare each with PyTorch's after five steps.
    const fs::path exported = work / "out" / "final.bin";
    REQUIRE(fs::exists(exported));
    std::ifstream in(exported, std::ios::binary);
    std::vector<std::int32_t> header(256);
    in.read(reinterpret_cast<char*>(header.data()), 1024);
    CHECK(header[0] == 20240326);
    CHECK(header[1] == 3);
    CHECK(header[7] == g.scalar("Vp"));
    // Load it back through the same reader the trainer uses, into freshly shaped parameters.
    auto alloc = make_cpu_allocator();
    auto kernels = make_cpu_kernels(1);
    std::vector<Parameter> params;
    for (const std::string& name : g.names()) {
      if (!name.starts_with("final.")) continue;
      const auto& t = g.tensor(name);
      Parameter p;
      p.name = name.substr(6);
      Shape shape(t.shape());
      p.value = Tensor::empty(shape, DType::f32, alloc);
      p.global_shape = shape;
      p.shard_offset = Shape(std::vector<std::int64_t>(shape.rank(), 0));
      params.push_back(std::move(p));
    }
    std::vector<Parameter*> ptrs;
    for (auto& p : params) ptrs.push_back(&p);
    // The starting point too, to measure how far each tensor moved.
    std::vector<Parameter> initial;
    for (const Parameter& p : params) {
      Parameter q = p;
      q.value = Tensor::empty(p.value.shape(), DType::f32, alloc);
      initial.push_back(std::move(q));
    }
    std::vector<Parameter*> initial_ptrs;
    for (auto& p : initial) initial_ptrs.push_back(&p);
    load_llmc_checkpoint(golden::golden_path("tiny_gpt2.llmc.bin"), run.dims, initial_ptrs,
                         *kernels);
    load_llmc_checkpoint(exported, run.dims, ptrs, *kernels);
    // Adam turns float rounding in a gradient into an update of up to lr where the true
    // gradient vanishes (the key bias: adding a constant to every key leaves the softmax
    // unchanged, so its exact gradient is 0 and float noise is all there is). So the final
    // parameters are held to the distance they moved: the error of five steps must stay within
    // 1e-3 of the largest movement in the tensor (the losses above hold to 1e-5).
    for (std::size_t i = 0; i < params.size(); ++i) {
      const Parameter& p = params[i];
      CAPTURE(p.name);
      std::vector<double> want = g.tensor("final." + p.name).f64();
      double moved = 0, err = 0;
      for (std::size_t j = 0; j < want.size(); ++j) {
        moved = std::max(moved, std::abs(want[j] - initial[i].value.data<float>()[j]));
        err = std::max(err, std::abs(p.value.data<float>()[j] - want[j]));
      }
      CHECK(moved > 0.0);
      CHECK(err <= 1e-3 * moved);
    }
  }
}

TEST_CASE("gradient accumulation: one batch in several microbatches trains the same") {
  // The same global batch as three microbatches of one sequence: identical losses and norms
  // (up to float summation order).
  fs::path work = fs::path(TRELLIS_TEST_WORK_DIR) / "microbatches";
  fs::remove_all(work);
  ResolvedRun run = tiny_run(work, 2, "");
  run.config.train.micro_batch = 1;
  run.microbatches = static_cast<int>(run.config.train.global_batch);
  std::FILE* devnull = std::fopen("/dev/null", "w");
  {
    Trainer trainer(run, devnull);
    trainer.train();
  }
  std::fclose(devnull);
  const golden::GoldenFile g = golden::GoldenFile::load(golden::golden_path("tiny_gpt2.golden"));
  std::vector<double> loss = field(work / "out" / "metrics.jsonl", "loss");
  std::vector<double> want = g.tensor("train.loss").f64();
  for (std::size_t s = 0; s < want.size(); ++s) {
    CHECK(std::abs(loss[s] - want[s]) <= 1e-5 * want[s]);
  }
}
