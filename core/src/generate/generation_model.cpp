#include "generate/generation_model.h"

#include <string>
#include <vector>

#include "checkpoint/checkpoint_piece.h"
#include "checkpoint/checkpoint_reader.h"
#include "checkpoint/hf_directory.h"
#include "kernels/host_transfer.h"
#include "model/hf_weights.h"
#include "model/llmc_checkpoint.h"
#include "model/model_chunk.h"
#include "model/param_init.h"
#include "trellis/error.h"

namespace trellis {

namespace {

void read_trellis_checkpoint(const ModelInput& input, const std::vector<Parameter*>& params,
                             Kernels& kernels) {
  CheckpointReader reader(input.path);
  for (Parameter* p : params) {
    CheckpointPiece piece{
        p->name, TensorRegion::whole_box(p->global_shape, p->shard_offset, p->value.shape()),
        p->value};
    // Rows past the real vocabulary are padding, which another layout pads differently.
    if (p->name == "wte" || p->name == "lm_head.weight")
      piece.padding_rows_from = input.dims.vocab_size;
    reader.read(piece, kernels);
  }
}

void load_parameters(const ModelInput& input, const std::vector<Parameter*>& params,
                     Kernels& kernels) {
  switch (input.kind) {
    case ModelInput::Kind::trellis_checkpoint:
      read_trellis_checkpoint(input, params, kernels);
      break;
    case ModelInput::Kind::hf:
      // GPT-2's or LLaMA's tensors, by the architecture config.json gave (model_input.cpp).
      load_hf_weights(HfDirectory(input.path), hf_model(input.dims, input.arch), params, kernels);
      break;
    case ModelInput::Kind::llmc:
      load_llmc_checkpoint(input.path, input.dims, params, kernels);
      break;
    case ModelInput::Kind::random:
      initialize_parameters(params, input.seed, kernels);
      break;
  }
}

}  // namespace

GenerationModel load_generation_model(const ModelInput& input, const PluginRegistry& registry,
                                      Kernels& kernels,
                                      const std::shared_ptr<Allocator>& allocator) {
  GenerationModel model{decoder_architecture(input.dims, input.arch), {}};
  check_decodable(model.architecture);
  LayerFamilyInit init;
  init.dims = input.dims;
  init.allocator = allocator;
  init.kernels = &kernels;
  init.micro_batch = 1;
  init.arch = input.arch;  // the family names and shapes the parameters of this architecture
  const std::shared_ptr<LayerFamily> family = registry.make_layers("1d", init);
  const ModelChunk chunk(*family, chunk_spec(static_cast<int>(input.dims.layers), 1, 0), nullptr);
  const std::vector<Parameter*> params = chunk.parameters();
  load_parameters(input, params, kernels);
  auto values = [&](const std::string& name) {
    for (const Parameter* p : params) {
      if (p->name != name) continue;
      // At tensor 1 every parameter is whole on this rank.
      if (!(p->value.shape() == p->global_shape)) {
        throw Error("parameter " + name + " is a shard " + p->value.shape().str() + " of " +
                    p->global_shape.str() + "; the decoder needs it whole");
      }
      return f32_to_host(kernels, p->value);
    }
    throw Error("the layer family made no parameter " + name + " for the decoder");
  };
  model.weights = read_decoder_weights(model.architecture, values, kernels, allocator);
  return model;
}

}  // namespace trellis
