// The decoder of any ModelArchitecture: how it names one, what it refuses, that it reads every
// weight of the tiny LLaMA's by Trellis's names, and a LLaMA-style run config's random model
// loaded through the "1d" family (generate/generation_model.h) with the run's architecture.
// PyTorch's numbers are test_generate_golden's and test_kv_cache's.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "generate/generation.h"
#include "generate/token_sampler.h"
#include "tiny_generator.h"
#include "trellis/error.h"

using namespace trellis;
using trellis::test::TinyGenerator;
using trellis::test::TinyLlama;
namespace fs = std::filesystem;

TEST_CASE("an architecture is named as the config names it, with the model's dimensions") {
  const ModelDims dims{.vocab_size = 97,
                       .padded_vocab = 128,
                       .seq_len = 16,
                       .max_seq_len = 16,
                       .layers = 2,
                       .heads = 2,
                       .hidden = 16};
  CHECK(gpt2_architecture(dims).describe() ==
        "GPT-2: 2 layers, 2 heads, hidden 16, vocab 97, 16 positions");
  CHECK(trellis::test::tiny_llama_architecture("gqa.").describe() ==
        "LLaMA-style (rmsnorm, swiglu 64, rope theta 500000, 2 kv heads, no bias, untied head): "
        "2 layers, 4 heads, hidden 32, vocab 97, 16 positions");
  CHECK(trellis::test::tiny_llama_architecture("mha.").describe() ==
        "LLaMA-style (rmsnorm eps 1e-06, swiglu 64, rope theta 10000, 4 kv heads, no bias, untied "
        "head): 2 layers, 4 heads, hidden 32, vocab 97, 16 positions");
  DecoderArchitecture untied = gpt2_architecture(dims);
  untied.arch.tie_embeddings = false;
  CHECK(
      untied.describe().starts_with("GPT-style (layernorm, gelu 64, learned positions, 2 kv "
                                    "heads, bias, untied head): 2 layers"));
}

TEST_CASE("an architecture that makes no model is bad input, named") {
  const DecoderArchitecture good = trellis::test::tiny_llama_architecture("gqa.");
  CHECK_NOTHROW(check_decodable(good));
  DecoderArchitecture a = good;
  a.arch.kv_heads = 3;
  CHECK_THROWS_WITH_AS(check_decodable(a),
                       "3 key/value heads do not divide the 4 heads (each serves heads / kv_heads "
                       "query heads)",
                       InputError);
  a = good;
  a.hidden = 36;  // head size 9
  CHECK_THROWS_WITH_AS(
      check_decodable(a),
      "rotary positions turn a head's channels in pairs, and the head size 9 is odd", InputError);
  a.arch.positions = ModelArchitecture::Positions::learned;
  CHECK_NOTHROW(check_decodable(a));
  a = good;
  a.arch.norm = ModelArchitecture::Norm::layernorm;  // its eps is fixed at 1e-5
  a.arch.norm_eps = 1e-6;
  CHECK_THROWS_AS(check_decodable(a), InputError);
  a.arch.norm_eps = 1e-5;
  CHECK_NOTHROW(check_decodable(a));
  a = good;
  a.arch.ffn_hidden = 0;
  CHECK_THROWS_AS(check_decodable(a), InputError);
}

TEST_CASE("the decoder reads every weight of the tiny LLaMA by its Trellis name, and no other") {
  const golden::GoldenFile& g = trellis::test::tiny_llama_golden();
  const auto alloc = make_cpu_allocator();
  const auto kernels = make_cpu_kernels(1);
  for (const std::string prefix : {"gqa.", "mha."}) {
    CAPTURE(prefix);
    const std::string init = prefix + "init.";
    std::set<std::string> read;
    const DecoderWeights w = read_decoder_weights(
        trellis::test::tiny_llama_architecture(prefix),
        [&](const std::string& name) {
          CHECK(read.insert(name).second);
          return g.tensor(init + name).f32();
        },
        *kernels, alloc);
    std::set<std::string> stored;
    for (const std::string& name : g.names())
      if (name.starts_with(init)) stored.insert(name.substr(init.size()));
    CHECK(read == stored);
    CHECK(w.head.defined());              // untied
    CHECK(!w.positions.defined());        // rotary positions: no table
    CHECK(!w.final_norm_bias.defined());  // RMSNorm
    CHECK(w.blocks.at(0).qkv_weight.defined() == (prefix == "mha."));
    CHECK(w.blocks.at(0).kv_weight.defined() == (prefix == "gqa."));
    CHECK(w.blocks.at(0).fc_weight.shape() == Shape{128, 32});  // [2F, C]: gate, then up
  }
}

TEST_CASE("a LLaMA-style run config's random model is loaded with the run's architecture") {
  const fs::path work = fs::path(TRELLIS_TEST_WORK_DIR) / "llama_random";
  fs::remove_all(work);
  fs::create_directories(work);
  std::ofstream(work / "run.toml")
      << "[run]\nname = \"llama\"\nseed = 7\nout_dir = \"" << (work / "out").string()
      << "\"\n[model]\narch = \"llama\"\nvocab_size = 97\nseq_len = 16\nlayers = 2\nheads = 4\n"
         "kv_heads = 2\nhidden = 32\nrope_theta = 500.0\n[data]\ntrain = \""
      << golden::golden_path("tiny_tokens.bin") << "\"\n";
  const ModelInput in = find_model_input(work / "run.toml", RunEnvironment{});
  CHECK(in.kind == ModelInput::Kind::random);
  CHECK(in.arch.norm == ModelArchitecture::Norm::rmsnorm);
  CHECK(in.arch.kv_heads == 2);
  CHECK(in.arch.rope_theta == 500.0);
  CHECK(!in.arch.tie_embeddings);
  TinyGenerator t(work / "run.toml");
  CHECK(t.arch().describe().starts_with(
      "LLaMA-style (rmsnorm, swiglu 64, rope theta 500, 2 kv heads, no bias, untied head)"));
  TokenSampler greedy({.temperature = 0.0});
  GenerationSettings settings;
  settings.max_new_tokens = 10;
  const std::vector<std::int32_t> prompt = {5, 9, 60};
  const GenerationResult a = generate_tokens(*t.decoder, greedy, prompt, settings);
  CHECK(a.tokens.size() == 10);
  settings.use_cache = false;
  const GenerationResult b = generate_tokens(*t.decoder, greedy, prompt, settings);
  CHECK(a.tokens == b.tokens);
}
