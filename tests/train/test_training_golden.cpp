// Five AdamW steps of the tiny GPT-2 from its llm.c checkpoint, as trellis-train runs them from a
// TOML file, against PyTorch: the loss and the (pre-clip) gradient norm of every step, and every
// parameter after the last step, read back from the llm.c export.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "adamw_history.h"
#include "config/config_loader.h"
#include "error_bound.h"
#include "golden_file.h"
#include "metrics_field.h"
#include "train/trainer.h"

using namespace trellis;
namespace fs = std::filesystem;
namespace numerics = trellis::test::numerics;

namespace {

std::vector<double> field(const fs::path& metrics, const std::string& name) {
  return trellis::test::metrics_field(metrics, name);
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
       // AdamW's state after every step: the trained parameters' bound needs it.
       << "[checkpoint]\nevery = 1\nkeep = 0\n"
       << "[device]\nthreads = " << threads << "\n"
       << extra;
  fs::create_directories(work);
  return load_run_text(toml.str(), work / "run.toml", {}, RunEnvironment{});
}

numerics::GptShape tiny_shape(const golden::GoldenFile& g) {
  auto n = [&](const char* name) { return static_cast<std::int64_t>(g.scalar(name)); };
  return {n("Vp"), n("C"), n("NH"), n("L"), n("T"), n("B") * n("T")};
}

// Loss and gradient norm of every step against PyTorch's, within gpt_loss_bound and
// gpt_grad_norm_bound (error_bound.h). From step 2 on they also depend on the trained
// parameters so far; their rounding differences (adamw_bound.h) are assumed to move the loss
// less than its own rounding does.
void check_losses_and_norms(const std::string& what, const golden::GoldenFile& g,
                            const fs::path& metrics) {
  std::vector<double> loss = field(metrics, "loss");
  std::vector<double> norm = field(metrics, "grad_norm");
  std::vector<double> want_loss = g.tensor("train.loss").f64();
  std::vector<double> want_norm = g.tensor("train.grad_norm").f64();
  std::int64_t count = 0;
  for (const std::string& name : g.names())
    if (name.starts_with("final.")) count += g.tensor(name).numel();
  REQUIRE(loss.size() == want_loss.size());
  REQUIRE(norm.size() == want_norm.size());
  for (std::size_t s = 0; s < loss.size(); ++s) {
    CAPTURE(s);
    auto l = numerics::compare_scalar(loss[s], want_loss[s],
                                      numerics::gpt_loss_bound(tiny_shape(g), want_loss[s]));
    auto n = numerics::compare_scalar(
        norm[s], want_norm[s], numerics::gpt_grad_norm_bound(tiny_shape(g), want_norm[s], count));
    numerics::report("test_training_golden", what + " loss", l);
    numerics::report("test_training_golden", what + " grad_norm", n);
    INFO("loss: " << l.describe());
    INFO("grad_norm: " << n.describe());
    CHECK(l.ok());
    CHECK(n.ok());
  }
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
      Trainer trainer(run, RunEnvironment::from_process(), devnull);
      TrainSummary summary = trainer.train();
      CHECK(summary.steps == 5);
    }
    std::fclose(devnull);

    const fs::path metrics = work / "out" / "metrics.jsonl";
    const std::string what = std::to_string(threads) + " threads";
    check_losses_and_norms(what, g, metrics);

    // The export holds the trained parameters: compare each with PyTorch's after five steps.
    const fs::path exported = work / "out" / "final.bin";
    REQUIRE(fs::exists(exported));
    std::ifstream in(exported, std::ios::binary);
    std::vector<std::int32_t> header(256);
    in.read(reinterpret_cast<char*>(header.data()), 1024);
    CHECK(header[0] == 20240326);
    CHECK(header[1] == 3);
    CHECK(header[7] == g.scalar("Vp"));
    // Each element within adamw_parameter_bound (adamw_bound.h), from this run's AdamW state at
    // every step: AdamW divides the gradient by its running size, so rounding noise in a
    // vanishing gradient (a key bias, whose exact gradient is 0; an element whose gradient passes
    // near 0) can move a parameter by up to lr per step, while elsewhere the error stays at the
    // gradient's error over its size (trained_parameter_bounds, adamw_history.h, says which
    // gradient error it assumes).
    const numerics::AdamwRunHistory history =
        numerics::read_adamw_history(work / "out" / "checkpoints");
    REQUIRE(history.steps == static_cast<int>(g.tensor("train.loss").numel()));
    const numerics::AdamwSettings settings{g.scalar("train.beta1"), g.scalar("train.beta2"),
                                           g.scalar("train.eps")};
    const auto bounds = numerics::trained_parameter_bounds(history, field(metrics, "lr"), settings);
    const auto trained = numerics::read_llmc_export(exported, history);
    for (const auto& [name, values] : trained) {
      CAPTURE(name);
      const std::vector<double>& bound = bounds.at(name);
      numerics::Comparison c = numerics::compare(values, g.tensor("final." + name).f64(), bound);
      numerics::report("test_training_golden", what + " final." + name, c);
      INFO("final " << name << ": " << c.describe());
      CHECK(c.ok());
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
    Trainer trainer(run, RunEnvironment::from_process(), devnull);
    trainer.train();
  }
  std::fclose(devnull);
  const golden::GoldenFile g = golden::GoldenFile::load(golden::golden_path("tiny_gpt2.golden"));
  check_losses_and_norms("3 microbatches", g, work / "out" / "metrics.jsonl");
}
