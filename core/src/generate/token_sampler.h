// Choosing the next token from a decoder's logits: greedy, or sampled after temperature, top-k
// and top-p (nucleus) filtering, in that order. Deterministic for a seed: the sampler owns its
// random engine (std::mt19937_64, whose sequence the C++ standard fixes) and turns its draws
// into numbers in [0, 1) itself, since the standard distributions may differ between libraries.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace trellis {

struct SamplingSettings {
  double temperature = 1.0;  // 0: greedy
  std::int64_t top_k = 0;    // keep the k most likely tokens; 0: all
  double top_p = 1.0;        // keep the fewest most likely tokens whose probability is >= p; 1: all
  std::uint64_t seed = 0;
};

// Throws InputError naming the setting for a temperature < 0, top_k < 0 or top_p outside (0, 1].
void check_sampling(const SamplingSettings& settings);

// The token of the largest logit, the lowest id among equal largest.
std::int32_t greedy_token(std::span<const float> logits);

class TokenSampler {
 public:
  // Checks `settings` (check_sampling).
  explicit TokenSampler(const SamplingSettings& settings);

  const SamplingSettings& settings() const noexcept { return settings_; }

  // The next token for `logits` (the vocabulary's, at least one). Greedy at temperature 0, else
  // drawn from softmax(logits / temperature) over the tokens top-k and top-p keep.
  std::int32_t next(std::span<const float> logits);

 private:
  // A number in [0, 1) from 53 bits of the engine.
  double uniform();

  SamplingSettings settings_;
  std::mt19937_64 engine_;
  std::vector<std::int32_t> order_;  // candidate ids, most likely first
  std::vector<double> weights_;      // their unnormalised probabilities
};

}  // namespace trellis
