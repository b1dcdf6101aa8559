// Checkpoints as users meet them, through trellis-train (launching its own ranks over the
// backend named by TRELLIS_TEST_BACKEND):
//
//  - saved in one layout, resumed in another, the run goes on exactly: the losses and gradient
//    norms of the resumed steps equal the uninterrupted run's (1e-5 relative) and so do the
//    final parameters (the llm.c export, held as tests/parallel holds them);
//  - the distributed optimizer (zero = 1) trains the same numbers with less memory per rank;
//  - a rank killed mid-step or mid-save ends the run, names the rank, and leaves the previous
//    checkpoint the newest complete one, from which the run resumes;
//  - damaged checkpoints are input errors (exit 2) naming the file.
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "checkpoint/checkpoint_directory.h"
#include "golden_file.h"
#include "support/process.h"
#include "support/run_outputs.h"

namespace fs = std::filesystem;
using trellis::golden::golden_path;

namespace {

fs::path work(const std::string& name) {
  return fs::path(TRELLIS_TEST_WORK_DIR) / (trellis::test::backend_under_test() + "-" + name);
}

// The deeper model of tests/parallel (4 layers, enough for 2 x 2), 4 steps, checkpoints every 2.
std::string config(const fs::path& out) {
  std::ostringstream t;
  t << "[run]\nname = \"checkpoint\"\nsteps = 4\nseed = 7\nout_dir = \"" << out.string() << "\"\n"
    << "[comm]\ntimeout_s = 60\n"
    << "[data]\ntrain = \"" << golden_path("tiny_tokens.bin") << "\"\n"
    << "[model]\nvocab_size = 97\nseq_len = 8\nlayers = 4\nheads = 2\nhidden = 16\n"
    << "export = \"llmc:" << (out / "final.bin").string() << "\"\n"
    << "[train]\nmicro_batch = 1\nglobal_batch = 4\n"
    << "[optim]\nschedule = \"cosine\"\nwarmup_steps = 1\nlr = 3e-3\n"
    << "[checkpoint]\nevery = 2\nkeep = 0\n"
    << "[logging]\nprogress = false\n[device]\nthreads = 1\n";
  return t.str();
}

struct Run {
  fs::path dir;
  trellis::test::ProcessResult result;
  std::vector<double> loss, norm, peak;
  std::vector<int> steps;
};

// trellis-train in `dir` (kept unless `fresh`), with --set overrides and extra environment.
Run train(const std::string& name, const std::vector<std::string>& sets, bool fresh = true,
          std::map<std::string, std::optional<std::string>> env = {}) {
  Run run;
  run.dir = work(name);
  if (fresh) fs::remove_all(run.dir);
  fs::create_directories(run.dir);
  const fs::path file = run.dir / "run.toml";
  std::ofstream(file) << config(run.dir);
  std::vector<std::string> args = {file.string(), "--set",
                                   "comm.backend=" + trellis::test::backend_under_test()};
  for (const std::string& s : sets) {
    args.push_back("--set");
    args.push_back(s);
  }
  run.result = trellis::test::run_trellis_train(args, env);
  run.loss = trellis::test::metric_values(run.dir / "metrics.jsonl", "loss");
  run.norm = trellis::test::metric_values(run.dir / "metrics.jsonl", "grad_norm");
  run.peak = trellis::test::metric_values(run.dir / "metrics.jsonl", "peak_mem_bytes");
  for (double s : trellis::test::metric_values(run.dir / "metrics.jsonl", "step"))
    run.steps.push_back(static_cast<int>(s));
  return run;
}

Run train_ok(const std::string& name, const std::vector<std::string>& sets, bool fresh = true) {
  Run run = train(name, sets, fresh);
  INFO(name << " (" << trellis::test::backend_under_test() << "):\n" << run.result.output);
  REQUIRE(run.result.exit_code == 0);
  return run;
}

// A run's checkpoints directory with only the checkpoint of `step` copied from `from`.
void seed_checkpoint(const Run& from, std::int64_t step, const std::string& into) {
  const fs::path dir = work(into);
  fs::remove_all(dir);
  fs::create_directories(dir / "checkpoints");
  const std::string name = trellis::step_directory_name(step);
  fs::copy(from.dir / "checkpoints" / name, dir / "checkpoints" / name,
           fs::copy_options::recursive);
}

void check_close(const std::vector<double>& got, const std::vector<double>& want,
                 std::size_t want_from) {
  REQUIRE(want.size() >= want_from + got.size());
  for (std::size_t s = 0; s < got.size(); ++s) {
    CAPTURE(s);
    const double w = want[want_from + s];
    CHECK(std::abs(got[s] - w) <= 1e-5 * std::abs(w));
  }
}

// Parameters as tests/parallel holds them: 1e-3 of the largest move plus 1e-6.
void check_parameters(const fs::path& got_file, const fs::path& want_file,
                      const std::vector<float>& initial) {
  const std::vector<float> got = trellis::test::llmc_parameter_values(got_file),
                           want = trellis::test::llmc_parameter_values(want_file);
  REQUIRE(got.size() == want.size());
  double moved = 0, err = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    moved = std::max(moved, std::abs(double(want[i]) - initial[i]));
    err = std::max(err, std::abs(double(got[i]) - want[i]));
  }
  CHECK(moved > 0);
  CHECK(err <= 1e-3 * moved + 1e-6);
}

// The uninterrupted one-rank run, and its initial parameters (one step at learning rate 0).
struct Reference {
  Run run;
  std::vector<float> initial;
};

Reference reference(const std::string& name) {
  Reference ref;
  Run init = train_ok(name + "-init", {"run.steps=1", "optim.lr=0", "checkpoint.every=0"});
  ref.initial = trellis::test::llmc_parameter_values(init.dir / "final.bin");
  ref.run = train_ok(name + "-reference", {});
  REQUIRE(ref.run.loss.size() == 4);
  return ref;
}

// Saved at step 2 on one rank (the reference run's checkpoint), resumed under `layout`.
void check_resume(const std::string& name, const std::vector<std::string>& layout) {
  const Reference ref = reference(name);
  seed_checkpoint(ref.run, 2, name);
  std::vector<std::string> sets = layout;
  sets.push_back("checkpoint.resume=true");
  const Run resumed = train_ok(name, sets, false);
  CHECK(resumed.result.output.find("resume: ") != std::string::npos);
  CHECK(resumed.steps == std::vector<int>{3, 4});
  check_close(resumed.loss, ref.run.loss, 2);
  check_close(resumed.norm, ref.run.norm, 2);
  check_parameters(resumed.dir / "final.bin", ref.run.dir / "final.bin", ref.initial);
}

}  // namespace

TEST_CASE("resume-tensor2-pipeline2") {
  check_resume("resume-tensor2-pipeline2",
               {"launch.nproc=4", "parallel.tensor=2", "parallel.pipeline=2"});
}

TEST_CASE("resume-data2-zero1") {
  check_resume("resume-data2-zero1", {"launch.nproc=2", "optim.zero=1"});
}

TEST_CASE("resume-interleaved-from-zero1-data4") {
  // Saved by four data ranks each holding a quarter of the moments (ranges of flattened
  // tensors), resumed as two pipeline ranks with two virtual chunks each and zero = 0.
  const Reference ref = reference("from-zero1");
  const Run saved = train_ok("from-zero1-saved", {"launch.nproc=4", "optim.zero=1"});
  check_close(saved.loss, ref.run.loss, 0);
  seed_checkpoint(saved, 2, "from-zero1-resumed");
  const Run resumed =
      train_ok("from-zero1-resumed",
               {"launch.nproc=2", "parallel.pipeline=2", "parallel.virtual_stages=2",
                "parallel.schedule=interleaved", "checkpoint.resume=true"},
               false);
  check_close(resumed.loss, ref.run.loss, 2);
  check_close(resumed.norm, ref.run.norm, 2);
  check_parameters(resumed.dir / "final.bin", ref.run.dir / "final.bin", ref.initial);
}

TEST_CASE("resume-from-context2") {
  // Saved by a context group of two (each rank holding chunks of every sequence, rank 0 of the
  // data-context group writing the parameters and moments), resumed on one rank and on a
  // context group of four: the layout of the tokens is no part of the checkpoint.
  const Reference ref = reference("from-context2");
  const Run saved = train_ok("from-context2-saved", {"launch.nproc=2", "parallel.context=2"});
  check_close(saved.loss, ref.run.loss, 0);
  check_close(saved.norm, ref.run.norm, 0);
  const fs::path manifest =
      saved.dir / "checkpoints" / trellis::step_directory_name(2) / "manifest.json";
  CHECK(nlohmann::json::parse(std::ifstream(manifest))["layout"]["context"] == 2);
  for (int context : {1, 4}) {
    const std::string name = "from-context2-resumed-context" + std::to_string(context);
    CAPTURE(name);
    seed_checkpoint(saved, 2, name);
    const Run resumed =
        train_ok(name,
                 {"launch.nproc=" + std::to_string(context),
                  "parallel.context=" + std::to_string(context), "checkpoint.resume=true"},
                 false);
    CHECK(resumed.steps == std::vector<int>{3, 4});
    check_close(resumed.loss, ref.run.loss, 2);
    check_close(resumed.norm, ref.run.norm, 2);
    check_parameters(resumed.dir / "final.bin", ref.run.dir / "final.bin", ref.initial);
  }
}

// zero = 1 trains the numbers of zero = 0, and each rank holds less: the parameters and
// gradients whole, but moments and the reduced gradient for 1/data of them.
void check_zero1(int data) {
  const std::string d = std::to_string(data);
  const Reference ref = reference("zero1-data" + d);
  const std::vector<std::string> layout = {"launch.nproc=" + d, "checkpoint.every=0"};
  std::vector<std::string> zero0 = layout, zero1 = layout;
  zero1.push_back("optim.zero=1");
  const Run replicated = train_ok("zero0-data" + d, zero0);
  const Run distributed = train_ok("zero1-data" + d, zero1);
  check_close(distributed.loss, ref.run.loss, 0);
  check_close(distributed.norm, ref.run.norm, 0);
  check_parameters(distributed.dir / "final.bin", ref.run.dir / "final.bin", ref.initial);
  // Per rank: zero 0 holds 4 copies of the parameters' size (values, gradients, m, v); zero 1
  // 2 + 3/data. The tiny model's activations are the same in both.
  const double parameter_bytes = 4.0 * static_cast<double>(ref.initial.size());
  const double saved = replicated.peak.back() - distributed.peak.back();
  MESSAGE("data " << data << ": peak_mem_bytes zero 0 " << replicated.peak.back() << ", zero 1 "
                  << distributed.peak.back() << " (saved " << saved << ", parameters "
                  << parameter_bytes << " bytes)");
  CHECK(distributed.peak.back() < replicated.peak.back());
  CHECK(saved >= 0.9 * (2.0 - 3.0 / data) * parameter_bytes);
}

TEST_CASE("zero1-data2") {
  check_zero1(2);
}
TEST_CASE("zero1-data4") {
  check_zero1(4);
}

TEST_CASE("zero1-pipeline2-data2") {
  // The token table of the two pipeline ends in a bucket of its own: ranges summed over the
  // embedding group, counted once in the norm, saved by the first stage; resumed on one rank.
  const Reference ref = reference("zero1-pipeline2-data2");
  const Run run =
      train_ok("zero1-pipeline2-data2", {"launch.nproc=4", "parallel.pipeline=2", "optim.zero=1"});
  check_close(run.loss, ref.run.loss, 0);
  check_close(run.norm, ref.run.norm, 0);
  check_parameters(run.dir / "final.bin", ref.run.dir / "final.bin", ref.initial);
  seed_checkpoint(run, 2, "zero1-pipeline2-data2-resumed");
  const Run resumed = train_ok("zero1-pipeline2-data2-resumed", {"checkpoint.resume=true"}, false);
  check_close(resumed.loss, ref.run.loss, 2);
  check_parameters(resumed.dir / "final.bin", ref.run.dir / "final.bin", ref.initial);
}

TEST_CASE("resume-from-expert2") {
  // A mixture of experts saved by an expert group of two (each rank holding two of the four
  // experts of each MoE block, rank 0 of each expert-data group writing them), resumed on one
  // rank (every expert) and on an expert group of four (one each): shards are read by their
  // regions, so the expert layout is no part of the checkpoint. llm.c's format has no experts:
  // the figures compared are the losses, gradient norms and dropped tokens.
  const std::vector<std::string> moe = {"model.export=\"\"", "model.experts=4", "model.top_k=2",
                                        "model.moe_every=2", "model.capacity_factor=1.0"};
  auto with = [&](std::vector<std::string> sets) {
    sets.insert(sets.end(), moe.begin(), moe.end());
    return sets;
  };
  const Run ref = train_ok("moe-reference", with({}));
  REQUIRE(ref.loss.size() == 4);
  const std::vector<double> ref_dropped =
      trellis::test::metric_values(ref.dir / "metrics.jsonl", "dropped_tokens");
  const Run saved = train_ok("from-expert2-saved",
                             with({"launch.nproc=2", "parallel.data=2", "parallel.expert=2"}));
  check_close(saved.loss, ref.loss, 0);
  check_close(saved.norm, ref.norm, 0);
  const fs::path manifest =
      saved.dir / "checkpoints" / trellis::step_directory_name(2) / "manifest.json";
  CHECK(nlohmann::json::parse(std::ifstream(manifest))["layout"]["expert"] == 2);
  for (int expert : {1, 4}) {
    const std::string name = "from-expert2-resumed-expert" + std::to_string(expert);
    CAPTURE(name);
    seed_checkpoint(saved, 2, name);
    const std::string ranks = std::to_string(expert);
    const Run resumed = train_ok(name,
                                 with({"launch.nproc=" + ranks, "parallel.data=" + ranks,
                                       "parallel.expert=" + ranks, "checkpoint.resume=true"}),
                                 false);
    CHECK(resumed.steps == std::vector<int>{3, 4});
    check_close(resumed.loss, ref.loss, 2);
    check_close(resumed.norm, ref.norm, 2);
    const std::vector<double> dropped =
        trellis::test::metric_values(resumed.dir / "metrics.jsonl", "dropped_tokens");
    REQUIRE(dropped.size() == 2);
    CHECK(dropped[0] == ref_dropped[2]);
    CHECK(dropped[1] == ref_dropped[3]);
  }
}

TEST_CASE("resume-llama-tensor2-pipeline2") {
  // A LLaMA-style model (grouped-query attention, untied head) saved on one rank and resumed at
  // tensor 2 x pipeline 2: the manifest records the architecture, the key/value heads are cut
  // from the saved tensors by region, and the head's own weight goes to the last stage. llm.c's
  // format holds GPT-2 only: the figures compared are the losses and gradient norms.
  const std::vector<std::string> llama = {"model.export=\"\"", "model.arch=\"llama\"",
                                          "model.heads=4", "model.kv_heads=2",
                                          "model.ffn_hidden=48"};
  auto with = [&](std::vector<std::string> sets) {
    sets.insert(sets.end(), llama.begin(), llama.end());
    return sets;
  };
  const Run ref = train_ok("llama-reference", with({}));
  REQUIRE(ref.loss.size() == 4);
  const nlohmann::json model = nlohmann::json::parse(std::ifstream(
      ref.dir / "checkpoints" / trellis::step_directory_name(2) / "manifest.json"))["model"];
  CHECK(model["norm"] == "rmsnorm");
  CHECK(model["kv_heads"] == 2);
  CHECK(model["tie_embeddings"] == false);
  seed_checkpoint(ref, 2, "llama-resumed");
  const Run resumed = train_ok("llama-resumed",
                               with({"launch.nproc=4", "parallel.tensor=2", "parallel.pipeline=2",
                                     "checkpoint.resume=true"}),
                               false);
  CHECK(resumed.steps == std::vector<int>{3, 4});
  check_close(resumed.loss, ref.loss, 2);
  check_close(resumed.norm, ref.norm, 2);
  // A GPT-2 run cannot resume it, nor start from it: refused before any rank starts.
  const Run gpt2 =
      train("llama-resumed",
            {"checkpoint.resume=true", "model.export=\"\"", "model.heads=4", "run.steps=6"}, false);
  CHECK(gpt2.result.exit_code == 2);
  CHECK(gpt2.result.output.find("is of another model: norm is rmsnorm in the checkpoint but "
                                "layernorm in the run") != std::string::npos);
  const Run init = train("llama-init-gpt2",
                         {"model.export=\"\"", "model.heads=4",
                          "model.init=checkpoint:" + (ref.dir / "checkpoints").string()},
                         false);
  CHECK(init.result.exit_code == 2);
  CHECK(init.result.output.find("the checkpoint of model.init is of another architecture: norm is "
                                "rmsnorm in the checkpoint but layernorm in the run") !=
        std::string::npos);
}

TEST_CASE("init-from-checkpoint") {
  // init = "checkpoint:DIR" takes the parameters (not the optimizer): one step at lr 0 exports
  // the checkpoint's parameters unchanged, from a checkpoints directory (its newest step).
  const Reference ref = reference("init");
  const Run loaded =
      train_ok("init-loaded", {"launch.nproc=2", "parallel.tensor=2", "run.steps=1", "optim.lr=0",
                               "checkpoint.every=0",
                               "model.init=checkpoint:" + (ref.run.dir / "checkpoints").string()});
  CHECK(loaded.result.output.find("step-00000004") != std::string::npos);
  CHECK(trellis::test::llmc_parameter_values(loaded.dir / "final.bin") ==
        trellis::test::llmc_parameter_values(ref.run.dir / "final.bin"));
}

TEST_CASE("rank-killed-mid-step") {
  const Reference ref = reference("killed");
  const auto start = std::chrono::steady_clock::now();
  const Run killed = train("killed", {"launch.nproc=2", "parallel.pipeline=2"}, true,
                           {{"TRELLIS_TEST_FAULT", "step:1:3"}});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO(killed.result.output);
  CHECK(killed.result.exit_code != 0);
  CHECK(killed.result.output.find("rank 1") != std::string::npos);
  CHECK(seconds < 30);  // the launcher stops the survivor; nobody waits out the 60 s timeout
  // Step 2's checkpoint is the newest complete one, and the run resumes from it.
  const auto newest = trellis::newest_checkpoint(killed.dir / "checkpoints");
  REQUIRE(newest);
  CHECK(newest->step == 2);
  const Run resumed = train_ok(
      "killed", {"launch.nproc=2", "parallel.pipeline=2", "checkpoint.resume=true"}, false);
  CHECK(resumed.steps == std::vector<int>{1, 2, 3, 4});
  check_close(resumed.loss, ref.run.loss, 0);
}

TEST_CASE("crash-in-checkpoint-write") {
  // Rank 1 dies after writing its shards of step 4, before rank 0 could publish them.
  const Reference ref = reference("crash-save");
  const Run crashed = train("crash-save", {"launch.nproc=2", "optim.zero=1"}, true,
                            {{"TRELLIS_TEST_FAULT", "checkpoint:1:4"}});
  INFO(crashed.result.output);
  CHECK(crashed.result.exit_code != 0);
  CHECK(crashed.result.output.find("rank 1") != std::string::npos);
  const fs::path dir = crashed.dir / "checkpoints";
  CHECK(fs::exists(dir / ".tmp-step-00000004"));
  CHECK(!fs::exists(dir / "step-00000004"));
  const auto newest = trellis::newest_checkpoint(dir);
  REQUIRE(newest);
  CHECK(newest->step == 2);
  // The next run resumes from step 2, trains 3 and 4 again with the same losses, and its save
  // replaces the partial one.
  const Run resumed =
      train_ok("crash-save", {"launch.nproc=2", "optim.zero=1", "checkpoint.resume=true"}, false);
  CHECK(resumed.steps == std::vector<int>{1, 2, 3, 4});
  check_close(resumed.loss, ref.run.loss, 0);
  CHECK(!fs::exists(dir / ".tmp-step-00000004"));
  CHECK(trellis::newest_checkpoint(dir)->step == 4);
}

// A checkpoint (of the one-rank run, step 2) damaged by `damage`, loaded by `ranks` ranks; the
// run must stop with exit 2 and a message containing `expected`.
void check_damaged(const std::string& name, int ranks,
                   const std::function<void(const fs::path&)>& damage,
                   const std::string& expected) {
  const Run source = train_ok(name + "-source", {"run.steps=2", "checkpoint.every=2"});
  const fs::path step = source.dir / "checkpoints" / "step-00000002";
  damage(step);
  const Run run = train(name, {"launch.nproc=" + std::to_string(ranks),
                               "model.init=checkpoint:" + step.string(), "checkpoint.every=0"});
  INFO(run.result.output);
  CHECK(run.result.exit_code == 2);
  CHECK(run.result.output.find(expected) != std::string::npos);
}

TEST_CASE("corrupted-shard") {
  check_damaged(
      "corrupted", 2,
      [](const fs::path& step) {
        std::fstream f(step / "rank-00000.bin", std::ios::in | std::ios::out | std::ios::binary);
        f.seekg(4000);
        const char c = static_cast<char>(f.get());
        f.seekp(4000);
        f.put(static_cast<char>(c ^ 0x20));
      },
      "rank-00000.bin: wte [0:128, 0:16] of [128, 16] at byte 0 has checksum");
}

TEST_CASE("missing-shard") {
  check_damaged(
      "missing", 1, [](const fs::path& step) { fs::remove(step / "rank-00000.bin"); },
      "rank-00000.bin: missing; the checkpoint is incomplete");
}

TEST_CASE("layout-cannot-be-served") {
  // A manifest without the tensor of one block's projection: no layout can be served.
  check_damaged(
      "unservable", 2,
      [](const fs::path& step) {
        const fs::path file = step / "manifest.json";
        std::ifstream in(file);
        nlohmann::ordered_json manifest = nlohmann::ordered_json::parse(in);
        nlohmann::ordered_json kept = nlohmann::ordered_json::array();
        for (const nlohmann::ordered_json& t : manifest.at("tensors"))
          if (t.at("name") != "h.1.attn.proj.weight") kept.push_back(t);
        manifest["tensors"] = kept;
        in.close();
        std::ofstream(file, std::ios::trunc) << manifest.dump(2);
      },
      "has no tensor 'h.1.attn.proj.weight'");
}

TEST_CASE("manifest-of-another-model") {
  const Run source = train_ok("other-model-source", {"run.steps=2", "checkpoint.every=2"});
  // Resumed by a run of a wider model: refused before any rank starts, naming both values.
  const fs::path dir = work("other-model");
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy(source.dir / "checkpoints", dir / "checkpoints", fs::copy_options::recursive);
  const Run run =
      train("other-model", {"launch.nproc=2", "model.hidden=32", "checkpoint.resume=true"}, false);
  INFO(run.result.output);
  CHECK(run.result.exit_code == 2);
  CHECK(run.result.output.find("nothing was started") != std::string::npos);
  CHECK(run.result.output.find("step-00000002/manifest.json is of another model: hidden is 16 in "
                               "the checkpoint but 32 in the run") != std::string::npos);
  // A manifest that is not a Trellis checkpoint.
  std::ofstream(dir / "checkpoints" / "step-00000002" / "manifest.json", std::ios::trunc)
      << "{\"step\": 2}";
  const Run foreign = train("other-model", {"checkpoint.resume=true"}, false);
  CHECK(foreign.result.exit_code == 2);
  CHECK(foreign.result.output.find("manifest.json: not a Trellis checkpoint") != std::string::npos);
}
