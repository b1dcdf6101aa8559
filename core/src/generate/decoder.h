// A decoder for text generation: the model's forward over new tokens only, each attending over
// the keys and values the earlier tokens left in a KV cache (generate/kv_cache.h).
//
// It computes what training computes (DESIGN.md's model semantics; for the LLaMA-style pieces
// tests/golden/llama_reference.py), with the same kernels, for any ModelArchitecture:
// x = wte[token] (+ wpe[position] with learned positions); per block norm -> queries, keys and
// values (one qkv product, or q and kv products for grouped-query attention) -> rotary positions
// on the new queries and keys (rope) -> causal attention (scale 1/sqrt(C/NH)) -> projection ->
// residual, norm -> fc -> GELU (tanh) or SwiGLU -> projection -> residual; the final norm;
// logits = x . wte^T (tied) or x . lm_head^T over the V real columns. Norms are LayerNorm or
// RMSNorm (its eps the architecture's), biases where the architecture has them. A prompt goes
// through in one pass (its products are matrix-matrix), each later token alone; attention is the
// block kernel's (Kernels::attention_block_forward) with the new tokens as queries at their
// positions and the cache's prefix as keys, so any number of new tokens at any position is one
// call. The cache holds kv_heads heads; with fewer than the query heads, the prefix is copied
// out to every query head it serves before the kernel (what Hugging Face's repeat_kv does).
//
// Not thread-safe: one decoder is one sequence being generated.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "generate/decoder_architecture.h"
#include "generate/decoder_weights.h"
#include "generate/kv_cache.h"
#include "trellis/kernels.h"

namespace trellis {

class Decoder {
 public:
  // Throws what check_decodable throws for an architecture it does not compute.
  Decoder(const DecoderArchitecture& arch, DecoderWeights weights, Kernels& kernels,
          std::shared_ptr<Allocator> allocator);

  const DecoderArchitecture& architecture() const noexcept { return arch_; }
  // Tokens seen so far: the position the next token takes.
  std::int64_t length() const noexcept { return cache_.length(); }

  // Runs `tokens` (at least one) at positions length() onwards in one pass, keeps their keys and
  // values, and returns the logits of the last of them: V values, valid until the next call.
  // Throws InputError for an id outside 0..V-1 or tokens past the model's max_positions.
  std::span<const float> append(std::span<const std::int32_t> tokens);

  // Forgets every token: the next append starts at position 0.
  void reset() noexcept { cache_.clear(); }

 private:
  struct Activations;
  void embed(std::span<const std::int32_t> tokens, Activations& a);
  // x -> out: norm1 or norm2 (`bias` undefined for RMSNorm).
  void norm(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& out,
            Activations& a);
  // The new tokens' queries into a.q and their keys and values into the cache, positions turned.
  void project_qkv(int layer, Activations& a);
  // Block `layer`'s keys and values of positions 0..seen-1 with every query head's own: the
  // cache's rows, or (grouped-query) their copy in kv_expanded_.
  Tensor keys_and_values(int layer, std::int64_t seen);
  void attention(int layer, Activations& a);
  void mlp(int layer, Activations& a);
  void logits(Activations& a);

  DecoderArchitecture arch_;
  DecoderWeights weights_;
  Kernels& kernels_;
  std::shared_ptr<Allocator> allocator_;
  KvCache cache_;
  Tensor kv_expanded_;         // grouped-query: [max_positions, 2C], the cache's heads repeated
  std::vector<float> logits_;  // of the last token appended
};

}  // namespace trellis
