// [logging] sample_every for an architecture llm.c's format cannot hold (train/training_sample.h):
// the ranks write the parameters as a Trellis checkpoint, rank 0 decodes it with the run's
// architecture, and the sample is the one the decoder of the run's initial weights samples with
// the same seed — driven here directly on one rank (test_llama_layouts runs it under a layout).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "config/config_loader.h"
#include "generate/generation.h"
#include "generate/token_sampler.h"
#include "golden_file.h"
#include "launch/world.h"
#include "tiny_generator.h"
#include "train/rank_model.h"
#include "train/training_sample.h"
#include "trellis/rank_groups.h"

using namespace trellis;
namespace fs = std::filesystem;

TEST_CASE("a LLaMA-style run's sample is decoded from a checkpoint with the run's architecture") {
  const fs::path work = fs::path(TRELLIS_TEST_WORK_DIR) / "llama_sample";
  fs::remove_all(work);
  fs::create_directories(work);
  const fs::path toml = work / "run.toml";
  std::ofstream(toml) << "[run]\nname = \"sample\"\nseed = 5\nout_dir = \""
                      << (work / "out").string()
                      << "\"\n[model]\narch = \"llama\"\nvocab_size = 97\nseq_len = 16\n"
                         "layers = 2\nheads = 4\nkv_heads = 2\nhidden = 32\n[data]\ntrain = \""
                      << golden::golden_path("tiny_tokens.bin")
                      << "\"\n[logging]\nsample_prompt = \"AB\"\nsample_tokens = 6\n";
  ResolvedRun run = load_run(toml, {}, RunEnvironment{});
  REQUIRE(!run.arch.is_gpt2(run.dims.hidden, run.dims.heads));
  run.config.logging.sample_every = 1;

  const auto alloc = make_cpu_allocator();
  const auto kernels = make_cpu_kernels(1);
  RankEnvironment lone;
  RankGroups groups = make_rank_groups(create_world(*run.registry, run.config.comm.backend,
                                                    run.backend_options(), lone, run.comm_timeout),
                                       run.layout);
  const PipelinePlan plan = single_stage_plan(run.microbatches);
  RankModel model(run, plan, 0, groups, alloc, kernels.get(), nullptr);
  model.initialize(run, *kernels);
  const TrainingSampler sampler(run, nullptr);
  const std::string text =
      sampler.sample(0, model, run.layout.coords(0), *groups.world, *kernels, alloc);
  INFO(text);
  CHECK(!fs::exists(work / "out" / "sample-checkpoint"));

  // The decoder of the run's initial weights ([model] init = "random", its seed), sampling as
  // the sampler does after step 1.
  const ModelInput in = find_model_input(toml, RunEnvironment{});
  GenerationModel loaded = load_generation_model(in, *run.registry, *kernels, alloc);
  Decoder decoder(loaded.architecture, std::move(loaded.weights), *kernels, alloc);
  TokenSampler draw({.seed = 5u * 1000003u + 1u});
  GenerationSettings settings;
  settings.max_new_tokens = 6;
  settings.end_of_text = run.tokenizer->end_of_text();
  const GenerationResult r =
      generate_tokens(decoder, draw, std::vector<std::int32_t>{65, 66}, settings);
  std::string continuation;
  for (std::int32_t id : r.tokens)
    if (id != settings.end_of_text) continuation += run.tokenizer->token_bytes(id);
  CHECK(text == "sample after step 1 (" + std::to_string(r.tokens.size()) +
                    " tokens after the prompt):\nAB|" + continuation);
}
