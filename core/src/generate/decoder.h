// A decoder for text generation: the model's forward over new tokens only, each attending over
// the keys and values the earlier tokens left in a KV cache (generate/kv_cache.h).
//
// It computes what training computes (DESIGN.md's model semantics), with the same kernels:
// x = wte[token] + wpe[position]; per block LayerNorm -> qkv -> causal attention (scale
// 1/sqrt(C/NH)) -> projection -> residual, LayerNorm -> fc -> GELU (tanh) -> projection ->
// residual; the final LayerNorm; logits = x . wte^T over the V real columns. A prompt goes
// through in one pass (its products are matrix-matrix), each later token alone; attention is the
// block kernel's (Kernels::attention_block_forward) with the new tokens as queries at their
// positions and the cache's prefix as keys, so any number of new tokens at any position is one
// call. Each step of the block is one function of the architecture (decoder_architecture.h), the
// place where LLaMA's pieces will branch.
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
  void attention(int layer, Activations& a);
  void mlp(int layer, Activations& a);
  void logits(Activations& a);

  DecoderArchitecture arch_;
  DecoderWeights weights_;
  Kernels& kernels_;
  std::shared_ptr<Allocator> allocator_;
  KvCache cache_;
  std::vector<float> logits_;  // of the last token appended
};

}  // namespace trellis
