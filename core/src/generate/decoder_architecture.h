// What a decoder computes, as one small description: the shape of the model and what each block
// computes, the SDK's ModelArchitecture (trellis/config.h) — the same one training builds its
// layers from. GPT-2 is LayerNorm, a GELU MLP, learned positions and multi-head attention with
// biases and the head tied to the token table; LLaMA differs only in these fields (RMSNorm,
// SwiGLU, RoPE, fewer key/value heads, no biases, its own head), so it adds cases to the
// decoder's steps, not a second decoder.
#pragma once

#include <cstdint>
#include <string>

#include "trellis/config.h"

namespace trellis {

struct DecoderArchitecture {
  std::int64_t vocab_size = 0;     // V: the logits' columns
  std::int64_t padded_vocab = 0;   // rows of the token table and an untied head (>= V; padding
                                   // rows are never read)
  std::int64_t max_positions = 0;  // the longest sequence (learned positions: rows of wpe)
  std::int64_t layers = 0;
  std::int64_t heads = 0;
  std::int64_t hidden = 0;  // C
  ModelArchitecture arch;   // norm, MLP and its width F, positions, kv_heads, biases, head

  std::int64_t head_size() const noexcept { return hidden / heads; }
  // The channels of one token's keys (and as many of its values): kv_heads x head size.
  std::int64_t kv_width() const noexcept { return arch.kv_heads * head_size(); }
  // Grouped-query attention: fewer key/value heads than query heads.
  bool grouped() const noexcept { return arch.kv_heads != heads; }
  // The dimensions as ModelDims (seq_len = max_seq_len = max_positions).
  ModelDims dims() const noexcept;
  // "GPT-2: 12 layers, 12 heads, hidden 768, vocab 50257, 1024 positions"; another
  // architecture adds what its blocks compute as the config's --dry-run writes it:
  // "LLaMA-style (rmsnorm, swiglu 64, rope theta 500000, 2 kv heads, no bias, untied head): ...".
  std::string describe() const;
};

// A model of `dims` whose blocks compute `arch`.
DecoderArchitecture decoder_architecture(const ModelDims& dims, const ModelArchitecture& arch);
// Trellis's GPT-2 (DESIGN.md's model semantics) of these dimensions.
DecoderArchitecture gpt2_architecture(const ModelDims& dims);

// Throws InputError for what does not make a model: dimensions that are not positive, heads not
// dividing hidden, kv_heads not dividing heads, an odd head size with rotary positions, an MLP
// width below 1, a LayerNorm eps other than 1e-5 (the kernel fixes it), a vocabulary larger than
// the token table.
void check_decodable(const DecoderArchitecture& arch);

}  // namespace trellis
