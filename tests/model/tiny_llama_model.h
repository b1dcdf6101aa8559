// The tiny LLaMA of tests/golden (tiny_llama.golden, tests/golden/llama_reference.py): model
// `prefix` ("gqa.": 4 heads sharing 2 of keys and values, rope_theta 500000, eps 1e-5; "mha.":
// rope_theta 10000, eps 1e-6) as one chunk of a layer family at tensor 1, its parameters loaded by
// `load` (by default the golden init.<name>: the same names and global shapes, neither side with
// one the other lacks), its gradients zeroed. The batch is tiny_gpt2.golden's first.
#pragma once

#include <doctest/doctest.h>

#include <functional>
#include <memory>
#include <set>
#include <string>

#include "error_bound.h"
#include "golden_file.h"
#include "kernels/cpu/cpu_kernels.h"
#include "model/model_chunk.h"
#include "trellis/error.h"
#include "trellis/plugin_registry.h"

namespace trellis::test {

inline const golden::GoldenFile& llama_golden() {
  static const golden::GoldenFile file =
      golden::GoldenFile::load(golden::golden_path("tiny_llama.golden"));
  return file;
}

struct TinyLlama {
  using Load = std::function<void(TinyLlama&)>;

  std::string prefix;
  ModelDims dims;
  ModelArchitecture arch;
  std::int64_t B, T;
  std::shared_ptr<Allocator> alloc = make_cpu_allocator();
  std::shared_ptr<Kernels> kernels = make_cpu_kernels(2);
  PluginRegistry registry = PluginRegistry::discover({{TRELLIS_TEST_PLUGIN_DIR, "build tree"}});
  std::shared_ptr<LayerFamily> family;
  std::unique_ptr<ModelChunk> chunk;

  // `edit` may change the golden model's architecture first (a bias, a tied head): the
  // parameters are then those of the edited one, which only a `load` other than the golden
  // init's can fill.
  TinyLlama(std::string which, const std::string& tensor_mode, const Load& load = load_golden_init,
            const std::function<void(ModelArchitecture&)>& edit = {})
      : prefix(std::move(which)) {
    const golden::GoldenFile& g = llama_golden();
    auto n = [&](const std::string& name) { return static_cast<std::int64_t>(g.scalar(name)); };
    dims.vocab_size = n("V");
    dims.padded_vocab = n("Vp");
    dims.max_seq_len = n("maxT");
    dims.layers = n(prefix + "L");
    dims.heads = n(prefix + "NH");
    dims.hidden = n(prefix + "C");
    B = n("B");
    T = n("T");
    dims.seq_len = T;
    arch.norm = ModelArchitecture::Norm::rmsnorm;
    arch.norm_eps = g.scalar(prefix + "norm_eps");
    arch.mlp = ModelArchitecture::Mlp::swiglu;
    arch.ffn_hidden = n(prefix + "F");
    arch.positions = ModelArchitecture::Positions::rope;
    arch.rope_theta = g.scalar(prefix + "rope_theta");
    arch.kv_heads = n(prefix + "KV");
    arch.bias = false;
    arch.tie_embeddings = false;
    if (edit) edit(arch);
    LayerFamilyInit init;
    init.dims = dims;
    init.allocator = alloc;
    init.kernels = kernels.get();
    init.micro_batch = static_cast<int>(B);
    init.arch = arch;
    family = registry.make_layers(tensor_mode, init);
    chunk = std::make_unique<ModelChunk>(*family, chunk_spec(static_cast<int>(dims.layers), 1, 0),
                                         nullptr);
    load(*this);
    for (Parameter* p : chunk->parameters()) kernels->fill(p->grad, 0.0f);
  }

  static void load_golden_init(TinyLlama& m) {
    const golden::GoldenFile& g = llama_golden();
    const std::string init_prefix = m.prefix + "init.";
    std::set<std::string> loaded;
    for (Parameter* p : m.chunk->parameters()) {
      CAPTURE(p->name);
      REQUIRE(g.contains(init_prefix + p->name));
      const auto& want = g.tensor(init_prefix + p->name);
      REQUIRE(std::vector<std::int64_t>(p->global_shape.begin(), p->global_shape.end()) ==
              want.shape());
      REQUIRE(loaded.insert(p->name).second);
      m.kernels->copy(want.to_tensor(m.alloc), p->value);
    }
    for (const std::string& name : g.names()) {
      if (!name.starts_with(init_prefix)) continue;
      INFO("the reference has " << name << ", Trellis's model no such parameter");
      CHECK(loaded.count(name.substr(init_prefix.size())) == 1);
    }
  }

  numerics::LlamaShape shape() const {
    return {dims.padded_vocab, dims.hidden, dims.heads, arch.kv_heads,
            arch.ffn_hidden,   dims.layers, T,          B * T};
  }

  Parameter& parameter(const std::string& name) const {
    for (Parameter* p : chunk->parameters())
      if (p->name == name) return *p;
    throw Error("the tiny LLaMA has no parameter " + name);
  }

  Microbatch batch() const {
    Microbatch mb;
    mb.tokens = llama_golden().tensor("tokens").to_tensor(alloc);
    mb.targets = llama_golden().tensor("targets").to_tensor(alloc);
    mb.loss_scale = static_cast<float>(1.0 / static_cast<double>(B * T));
    return mb;
  }

  // Forward and backward of the batch; returns the mean loss.
  double forward_backward() {
    Microbatch mb = batch();
    const double loss = chunk->forward(mb, mb.tokens).data<float>()[0] / static_cast<double>(B * T);
    chunk->backward(mb, Tensor());
    return loss;
  }
};

}  // namespace trellis::test
