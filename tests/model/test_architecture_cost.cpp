// The parameter counts a family's cost description gives trellis-plan (trellis/layer_cost.h)
// are the parameters its layers hold, for GPT-2's block and for LLaMA's (grouped or multi-head,
// with and without biases, tied or not): the planner's memory and the model's size follow the
// architecture, not GPT-2's formulas.
#include <doctest/doctest.h>

#include "kernels/cpu/cpu_kernels.h"
#include "model/model_chunk.h"
#include "trellis/plugin_registry.h"

using namespace trellis;

namespace {

ModelArchitecture llama(std::int64_t kv_heads, bool bias, bool tied) {
  ModelArchitecture a;
  a.norm = ModelArchitecture::Norm::rmsnorm;
  a.mlp = ModelArchitecture::Mlp::swiglu;
  a.ffn_hidden = 88;
  a.positions = ModelArchitecture::Positions::rope;
  a.kv_heads = kv_heads;
  a.bias = bias;
  a.tie_embeddings = tied;
  return a;
}

void check_counts(const std::string& family, const ModelArchitecture& arch) {
  CAPTURE(family);
  CAPTURE(arch.kv_heads);
  CAPTURE(arch.bias);
  CAPTURE(arch.tie_embeddings);
  const PluginRegistry registry =
      PluginRegistry::discover({{TRELLIS_TEST_PLUGIN_DIR, "build tree"}});
  std::shared_ptr<Kernels> kernels = make_cpu_kernels(1);
  LayerFamilyInit init;
  init.dims = {.vocab_size = 97,
               .padded_vocab = 128,
               .seq_len = 8,
               .max_seq_len = 16,
               .layers = 3,
               .heads = 4,
               .hidden = 32};
  init.allocator = make_cpu_allocator();
  init.kernels = kernels.get();
  init.arch = arch;
  const std::shared_ptr<LayerFamily> layers = registry.make_layers(family, init);
  const ModelChunk chunk(*layers, chunk_spec(3, 1, 0), nullptr);
  double held = 0;
  for (Parameter* p : chunk.parameters()) held += static_cast<double>(p->value.numel());

  LayerCostQuery query;
  query.dims = init.dims;
  query.arch = arch;
  const ParameterCount count = registry.describe_cost(family, query).parameters;
  CHECK(count.embedding + 3 * count.block + count.head == held);
}

}  // namespace

TEST_CASE("a family's described parameters are the parameters it holds, for every architecture") {
  for (const std::string family : {"1d", "seq"}) {
    check_counts(family, ModelArchitecture::gpt2(32, 4));
    check_counts(family, llama(2, false, false));
    check_counts(family, llama(4, false, false));
    check_counts(family, llama(1, true, true));
    ModelArchitecture mixed = ModelArchitecture::gpt2(32, 4);  // GPT-2 with GQA and no biases
    mixed.kv_heads = 2;
    mixed.bias = false;
    check_counts(family, mixed);
  }
}
