#include "generate/decoder_architecture.h"

#include "trellis/error.h"

namespace trellis {

std::string DecoderArchitecture::describe() const {
  return "GPT-2: " + std::to_string(layers) + " layers, " + std::to_string(heads) +
         " heads, hidden " + std::to_string(hidden) + ", vocab " + std::to_string(vocab_size) +
         ", " + std::to_string(max_positions) + " positions";
}

DecoderArchitecture gpt2_architecture(const ModelDims& dims) {
  DecoderArchitecture arch;
  arch.vocab_size = dims.vocab_size;
  arch.padded_vocab = dims.padded_vocab;
  arch.max_positions = dims.max_seq_len;
  arch.layers = dims.layers;
  arch.heads = dims.heads;
  arch.kv_heads = dims.heads;
  arch.hidden = dims.hidden;
  arch.ffn_hidden = 4 * dims.hidden;
  return arch;
}

void check_decodable(const DecoderArchitecture& arch) {
  // The CPU and CUDA kernels compute GPT-2's pieces; the others arrive with LLaMA.
  auto unsupported = [](const std::string& what) {
    throw UnsupportedError("the decoder computes GPT-2's pieces only; " + what +
                           " is not built yet");
  };
  if (arch.norm != NormKind::layernorm) unsupported("RMSNorm");
  if (arch.norm_eps != 1e-5) unsupported("a LayerNorm eps other than 1e-5");
  if (arch.mlp != MlpKind::gelu) unsupported("the SwiGLU MLP");
  if (arch.ffn_hidden != 4 * arch.hidden) unsupported("an MLP other than 4 x hidden wide");
  if (arch.positions != PositionKind::learned) unsupported("rotary positions (RoPE)");
  if (arch.kv_heads != arch.heads) unsupported("grouped-query attention");
  if (!arch.bias) unsupported("a model without biases");
  if (!arch.tied_embeddings) unsupported("an LM head of its own");
  if (arch.layers < 1 || arch.heads < 1 || arch.hidden < 1 || arch.max_positions < 1 ||
      arch.vocab_size < 1) {
    throw InputError("the model's dimensions must all be positive; got " + arch.describe());
  }
  if (arch.hidden % arch.heads != 0) {
    throw InputError("hidden " + std::to_string(arch.hidden) + " does not divide into " +
                     std::to_string(arch.heads) + " heads");
  }
  if (arch.padded_vocab < arch.vocab_size) {
    throw InputError("the token table has " + std::to_string(arch.padded_vocab) +
                     " rows, fewer than the vocabulary's " + std::to_string(arch.vocab_size));
  }
}

}  // namespace trellis
