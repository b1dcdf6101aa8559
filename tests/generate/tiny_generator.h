// The tiny GPT-2 of tests/golden loaded for generation (generate/generation_model.h) from one of
// its stored forms, or the tiny LLaMA of tiny_llama.golden from its initial weights, with
// PyTorch's greedy continuations (tiny_gpt2_generate.golden, tiny_llama_generate.golden) and the
// float32 bound on their logits.
#pragma once

#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "config/run_environment.h"
#include "error_bound.h"
#include "generate/decoder.h"
#include "generate/generation_model.h"
#include "generate/model_input.h"
#include "golden_file.h"
#include "kernels/cpu/cpu_kernels.h"
#include "trellis/plugin_registry.h"

namespace trellis::test {

// One prompt of the golden file and PyTorch's float64 greedy continuation of it.
struct GoldenContinuation {
  std::vector<std::int32_t> prompt;
  std::vector<std::int32_t> tokens;  // the new tokens
  std::vector<double> logits;        // [steps, V]: step s's logits, before tokens[s]
  std::vector<double> gap;           // [steps]: top-2 gap / max |logit|
};

// `file`: tiny_gpt2_generate.golden, or tiny_llama_generate.golden (the same prompts).
inline std::vector<GoldenContinuation> golden_continuations(
    const std::string& file = "tiny_gpt2_generate.golden") {
  const golden::GoldenFile g = golden::GoldenFile::load(golden::golden_path(file));
  std::vector<GoldenContinuation> out;
  for (int i = 0; i < static_cast<int>(g.scalar("generate.count")); ++i) {
    const std::string p = "generate." + std::to_string(i) + ".";
    out.push_back({g.tensor(p + "prompt").i32(), g.tensor(p + "tokens").i32(),
                   g.tensor(p + "logits").f64(), g.tensor(p + "gap").f64()});
  }
  return out;
}

// Model `prefix` of tiny_llama.golden: "gqa." (4 heads sharing 2 of keys and values, rope_theta
// 500000, eps 1e-5) or "mha." (rope_theta 10000, eps 1e-6).
struct TinyLlama {
  std::string prefix;
};

inline const golden::GoldenFile& tiny_llama_golden() {
  static const golden::GoldenFile file =
      golden::GoldenFile::load(golden::golden_path("tiny_llama.golden"));
  return file;
}

// The architecture of model `prefix` of tiny_llama.golden (tests/golden/llama_reference.py).
inline DecoderArchitecture tiny_llama_architecture(const std::string& prefix) {
  const golden::GoldenFile& g = tiny_llama_golden();
  auto n = [&](const std::string& name) { return static_cast<std::int64_t>(g.scalar(name)); };
  ModelDims dims;
  dims.vocab_size = n("V");
  dims.padded_vocab = n("Vp");
  dims.max_seq_len = dims.seq_len = n("maxT");
  dims.layers = n(prefix + "L");
  dims.heads = n(prefix + "NH");
  dims.hidden = n(prefix + "C");
  ModelArchitecture a;
  a.norm = ModelArchitecture::Norm::rmsnorm;
  a.norm_eps = g.scalar(prefix + "norm_eps");
  a.mlp = ModelArchitecture::Mlp::swiglu;
  a.ffn_hidden = n(prefix + "F");
  a.positions = ModelArchitecture::Positions::rope;
  a.rope_theta = g.scalar(prefix + "rope_theta");
  a.kv_heads = n(prefix + "KV");
  a.bias = false;
  a.tie_embeddings = false;
  return decoder_architecture(dims, a);
}

struct TinyGenerator {
  std::shared_ptr<Allocator> alloc = make_cpu_allocator();
  // One thread count for the whole program: OpenBLAS's setting is process-wide.
  std::shared_ptr<Kernels> kernels = make_cpu_kernels(2);
  PluginRegistry registry = PluginRegistry::discover({{TRELLIS_TEST_PLUGIN_DIR, "build tree"}});
  std::unique_ptr<Decoder> decoder;

  // `input`: a path of any form trellis-generate takes; the llm.c file by default.
  explicit TinyGenerator(
      const std::filesystem::path& input = golden::golden_path("tiny_gpt2.llmc.bin")) {
    const ModelInput in = find_model_input(input, RunEnvironment{});
    GenerationModel model = load_generation_model(in, registry, *kernels, alloc);
    decoder =
        std::make_unique<Decoder>(model.architecture, std::move(model.weights), *kernels, alloc);
  }

  // The tiny LLaMA's initial weights, read by their Trellis names (golden "<prefix>init.<name>").
  explicit TinyGenerator(const TinyLlama& model) {
    const DecoderArchitecture arch = tiny_llama_architecture(model.prefix);
    DecoderWeights weights = read_decoder_weights(
        arch,
        [&](const std::string& name) {
          return tiny_llama_golden().tensor(model.prefix + "init." + name).f32();
        },
        *kernels, alloc);
    decoder = std::make_unique<Decoder>(arch, std::move(weights), *kernels, alloc);
  }

  const DecoderArchitecture& arch() const { return decoder->architecture(); }

  // Each logit of a text of `length` tokens is within this much of the exact one, relative to
  // the largest |logit| (`scale`): the forward up to the head's product, whose last reduction is
  // over the C hidden channels (tests/numerics/error_bound.h): GPT-2's path, or the LLaMA's.
  // The tiny model's token table has Vp rows; the decoder's head takes the first V, which the
  // bound's Vp covers.
  double logits_bound(std::int64_t length, double scale) const {
    const DecoderArchitecture& a = arch();
    const double C = static_cast<double>(a.hidden);
    if (a.arch.is_gpt2(a.hidden, a.heads)) {
      const numerics::GptShape shape{a.padded_vocab, a.hidden, a.heads, a.layers, length, 1};
      return numerics::composite_bound(numerics::gpt_logits_path(shape), C, scale);
    }
    const numerics::LlamaShape shape{a.padded_vocab,    a.hidden, a.heads, a.arch.kv_heads,
                                     a.arch.ffn_hidden, a.layers, length,  1};
    return numerics::composite_bound(numerics::llama_logits_path(shape), C, scale);
  }
};

inline double max_abs(std::span<const double> v) {
  double m = 0.0;
  for (double x : v) m = std::max(m, std::abs(x));
  return m;
}

}  // namespace trellis::test
