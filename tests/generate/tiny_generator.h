// The tiny GPT-2 of tests/golden loaded for generation (generate/generation_model.h) from one of
// its stored forms, with PyTorch's greedy continuations (tiny_gpt2_generate.golden) and the
// float32 bound on its logits.
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

inline std::vector<GoldenContinuation> golden_continuations() {
  const golden::GoldenFile g =
      golden::GoldenFile::load(golden::golden_path("tiny_gpt2_generate.golden"));
  std::vector<GoldenContinuation> out;
  for (int i = 0; i < static_cast<int>(g.scalar("generate.count")); ++i) {
    const std::string p = "generate." + std::to_string(i) + ".";
    out.push_back({g.tensor(p + "prompt").i32(), g.tensor(p + "tokens").i32(),
                   g.tensor(p + "logits").f64(), g.tensor(p + "gap").f64()});
  }
  return out;
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

  const DecoderArchitecture& arch() const { return decoder->architecture(); }

  // Each logit of a text of `length` tokens is within this much of the exact one, relative to
  // the largest |logit| (`scale`): the forward up to the head's product, whose last reduction is
  // over the C hidden channels (tests/numerics/error_bound.h). The tiny model's token table has
  // Vp rows; the decoder's head takes the first V, which the bound's Vp covers.
  double logits_bound(std::int64_t length, double scale) const {
    const numerics::GptShape shape{arch().padded_vocab, arch().hidden, arch().heads,
                                   arch().layers,       length,        1};
    return numerics::composite_bound(numerics::gpt_logits_path(shape),
                                     static_cast<double>(arch().hidden), scale);
  }
};

inline double max_abs(std::span<const double> v) {
  double m = 0.0;
  for (double x : v) m = std::max(m, std::abs(x));
  return m;
}

}  // namespace trellis::test
