#include "generate/decoder_architecture.h"

#include "config/model_architecture.h"
#include "trellis/error.h"

namespace trellis {

namespace {

std::string str(std::int64_t v) {
  return std::to_string(v);
}

// A name for what the blocks compute: GPT-2's exactly, LLaMA's three defining pieces, or
// anything between.
std::string architecture_name(const DecoderArchitecture& a) {
  const ModelArchitecture& m = a.arch;
  if (m.is_gpt2(a.hidden, a.heads)) return "GPT-2";
  if (m.norm == ModelArchitecture::Norm::rmsnorm && m.mlp == ModelArchitecture::Mlp::swiglu &&
      m.positions == ModelArchitecture::Positions::rope) {
    return "LLaMA-style";
  }
  return "GPT-style";
}

}  // namespace

ModelDims DecoderArchitecture::dims() const noexcept {
  return {.vocab_size = vocab_size,
          .padded_vocab = padded_vocab,
          .seq_len = max_positions,
          .max_seq_len = max_positions,
          .layers = layers,
          .heads = heads,
          .hidden = hidden};
}

std::string DecoderArchitecture::describe() const {
  return architecture_text(architecture_name(*this), arch, dims()) + ": " + str(layers) +
         " layers, " + str(heads) + " heads, hidden " + str(hidden) + ", vocab " + str(vocab_size) +
         ", " + str(max_positions) + " positions";
}

DecoderArchitecture decoder_architecture(const ModelDims& dims, const ModelArchitecture& arch) {
  DecoderArchitecture a;
  a.vocab_size = dims.vocab_size;
  a.padded_vocab = dims.padded_vocab;
  a.max_positions = dims.max_seq_len;
  a.layers = dims.layers;
  a.heads = dims.heads;
  a.hidden = dims.hidden;
  a.arch = arch;
  return a;
}

DecoderArchitecture gpt2_architecture(const ModelDims& dims) {
  return decoder_architecture(dims, ModelArchitecture::gpt2(dims.hidden, dims.heads));
}

void check_decodable(const DecoderArchitecture& a) {
  const ModelArchitecture& m = a.arch;
  if (a.layers < 1 || a.heads < 1 || a.hidden < 1 || a.max_positions < 1 || a.vocab_size < 1 ||
      m.kv_heads < 1 || m.ffn_hidden < 1) {
    throw InputError("the model's dimensions must all be positive; got " + a.describe());
  }
  if (a.hidden % a.heads != 0) {
    throw InputError("hidden " + str(a.hidden) + " does not divide into " + str(a.heads) +
                     " heads");
  }
  if (a.heads % m.kv_heads != 0) {
    throw InputError(str(m.kv_heads) + " key/value heads do not divide the " + str(a.heads) +
                     " heads (each serves heads / kv_heads query heads)");
  }
  if (m.positions == ModelArchitecture::Positions::rope && a.head_size() % 2 != 0) {
    throw InputError("rotary positions turn a head's channels in pairs, and the head size " +
                     str(a.head_size()) + " is odd");
  }
  if (m.positions == ModelArchitecture::Positions::rope && !(m.rope_theta > 0.0)) {
    throw InputError("rope_theta must be positive; got " + a.describe());
  }
  if (m.norm == ModelArchitecture::Norm::layernorm && m.norm_eps != 1e-5) {
    throw InputError("LayerNorm runs with eps 1e-5 only (the layernorm kernel fixes it); got " +
                     a.describe());
  }
  if (m.norm == ModelArchitecture::Norm::rmsnorm && !(m.norm_eps > 0.0)) {
    throw InputError("RMSNorm's eps must be positive; got " + a.describe());
  }
  if (a.padded_vocab < a.vocab_size) {
    throw InputError("the token table has " + str(a.padded_vocab) +
                     " rows, fewer than the vocabulary's " + str(a.vocab_size));
  }
}

}  // namespace trellis
