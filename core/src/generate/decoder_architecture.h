// What a decoder computes, as one small description: the shape of the model and which of the
// interchangeable pieces each block uses. GPT-2 is LayerNorm, a GELU MLP, learned positions and
// multi-head attention with biases and the head tied to the token table; LLaMA differs only in
// these fields (RMSNorm, SwiGLU, RoPE, fewer key/value heads, no biases, its own head), so adding
// it adds cases to the decoder's steps, not a second decoder.
#pragma once

#include <cstdint>
#include <string>

#include "trellis/config.h"

namespace trellis {

enum class NormKind : unsigned char { layernorm, rmsnorm };
enum class MlpKind : unsigned char { gelu, swiglu };
enum class PositionKind : unsigned char { learned, rope };

struct DecoderArchitecture {
  std::int64_t vocab_size = 0;     // V: the logits' columns
  std::int64_t padded_vocab = 0;   // rows of the token table (>= V; padding rows are never read)
  std::int64_t max_positions = 0;  // the longest sequence (learned positions: rows of wpe)
  std::int64_t layers = 0;
  std::int64_t heads = 0;
  std::int64_t kv_heads = 0;    // = heads: multi-head attention
  std::int64_t hidden = 0;      // C
  std::int64_t ffn_hidden = 0;  // the MLP's inner width (4C for GPT-2)
  NormKind norm = NormKind::layernorm;
  double norm_eps = 1e-5;
  MlpKind mlp = MlpKind::gelu;
  PositionKind positions = PositionKind::learned;
  bool bias = true;             // linear layers have biases
  bool tied_embeddings = true;  // logits = x . wte^T

  std::int64_t head_size() const noexcept { return hidden / heads; }
  // "GPT-2: 12 layers, 12 heads, hidden 768, vocab 50257, 1024 positions"
  std::string describe() const;
};

// Trellis's GPT-2 (DESIGN.md's model semantics) of these dimensions.
DecoderArchitecture gpt2_architecture(const ModelDims& dims);

// Throws UnsupportedError naming the first piece the decoder does not compute yet (only GPT-2's
// are built), and InputError for dimensions that do not make a model (heads not dividing hidden,
// a vocabulary larger than the token table).
void check_decodable(const DecoderArchitecture& arch);

}  // namespace trellis
