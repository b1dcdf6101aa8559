// The tiny GPT-2 of tests/golden (tiny_gpt2.golden) as one model chunk of one layer family at
// tensor 1, its initial weights loaded from a checkpoint, its gradients zeroed.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "error_bound.h"
#include "golden_file.h"
#include "kernels/cpu/cpu_kernels.h"
#include "model/llmc_checkpoint.h"
#include "model/model_chunk.h"
#include "trellis/error.h"
#include "trellis/plugin_registry.h"

namespace trellis::test {

struct TinyModel {
  golden::GoldenFile g = golden::GoldenFile::load(golden::golden_path("tiny_gpt2.golden"));
  ModelDims dims;
  std::int64_t B, T;
  std::shared_ptr<Allocator> alloc = make_cpu_allocator();
  std::shared_ptr<Kernels> kernels;
  PluginRegistry registry = PluginRegistry::discover({{TRELLIS_TEST_PLUGIN_DIR, "build tree"}});
  std::shared_ptr<LayerFamily> family;
  std::unique_ptr<ModelChunk> chunk;

  // Loads the initial weights with `load` (the llm.c checkpoint by default).
  explicit TinyModel(int threads, const std::string& tensor_mode = "1d",
                     const std::function<void(TinyModel&)>& load = load_llmc)
      : kernels(make_cpu_kernels(threads)) {
    dims.vocab_size = static_cast<std::int64_t>(g.scalar("V"));
    dims.padded_vocab = static_cast<std::int64_t>(g.scalar("Vp"));
    dims.max_seq_len = static_cast<std::int64_t>(g.scalar("maxT"));
    dims.layers = static_cast<std::int64_t>(g.scalar("L"));
    dims.heads = static_cast<std::int64_t>(g.scalar("NH"));
    dims.hidden = static_cast<std::int64_t>(g.scalar("C"));
    B = static_cast<std::int64_t>(g.scalar("B"));
    T = static_cast<std::int64_t>(g.scalar("T"));
    dims.seq_len = T;
    LayerFamilyInit init;
    init.dims = dims;
    init.allocator = alloc;
    init.kernels = kernels.get();
    init.micro_batch = static_cast<int>(B);
    family = registry.make_layers(tensor_mode, init);
    chunk = std::make_unique<ModelChunk>(*family, chunk_spec(static_cast<int>(dims.layers), 1, 0),
                                         nullptr);
    load(*this);
    for (Parameter* p : chunk->parameters()) kernels->fill(p->grad, 0.0f);
  }

  static void load_llmc(TinyModel& m) {
    load_llmc_checkpoint(golden::golden_path("tiny_gpt2.llmc.bin"), m.dims, m.chunk->parameters(),
                         *m.kernels);
  }

  Parameter& parameter(const std::string& name) const {
    for (Parameter* p : chunk->parameters())
      if (p->name == name) return *p;
    throw Error("the tiny GPT-2 has no parameter " + name);
  }

  // The bound's view of the model and batch (error_bound.h), `batches` microbatches summed.
  numerics::GptShape shape(std::int64_t batches = 1) const {
    return {dims.padded_vocab, dims.hidden, dims.heads, dims.layers, T, batches * B * T};
  }

  Microbatch batch() {
    Microbatch mb;
    mb.tokens = g.tensor("tokens").to_tensor(alloc);
    mb.targets = g.tensor("targets").to_tensor(alloc);
    mb.loss_scale = static_cast<float>(1.0 / static_cast<double>(B * T));
    return mb;
  }
};

}  // namespace trellis::test
