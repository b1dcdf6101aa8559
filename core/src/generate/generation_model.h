// The weights to generate with, from any input form (model_input.h), loaded by the code training
// loads them with: the layer family "1d" at tensor 1 makes the model's parameters for the
// input's architecture (their names and shapes are the family's), the format's loader fills
// them — llm.c's, Hugging Face's, a Trellis checkpoint's reader, or the initialisation of a run —
// and the decoder's weights are then read from them by name, whole. So no format is read twice
// over in this folder, and a format the loaders learn is one generation reads.
#pragma once

#include <memory>

#include "generate/decoder_architecture.h"
#include "generate/decoder_weights.h"
#include "generate/model_input.h"
#include "trellis/kernels.h"
#include "trellis/plugin_registry.h"

namespace trellis {

struct GenerationModel {
  DecoderArchitecture architecture;
  DecoderWeights weights;
};

// Loads `input` with the "1d" family `registry` finds. Throws what the loaders throw (InputError
// naming a broken file), PluginError when the family is not found.
GenerationModel load_generation_model(const ModelInput& input, const PluginRegistry& registry,
                                      Kernels& kernels,
                                      const std::shared_ptr<Allocator>& allocator);

}  // namespace trellis
