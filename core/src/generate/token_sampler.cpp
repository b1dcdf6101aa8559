#include "generate/token_sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "trellis/error.h"

namespace trellis {

void check_sampling(const SamplingSettings& s) {
  if (!(s.temperature >= 0.0) || !std::isfinite(s.temperature)) {
    throw InputError("temperature " + std::to_string(s.temperature) +
                     ": valid: 0 (greedy) or a positive number");
  }
  if (s.top_k < 0) {
    throw InputError("top-k " + std::to_string(s.top_k) + ": valid: 0 (off) or a positive count");
  }
  if (!(s.top_p > 0.0 && s.top_p <= 1.0)) {
    throw InputError("top-p " + std::to_string(s.top_p) +
                     ": valid: a probability in (0, 1], 1 being off");
  }
}

std::int32_t greedy_token(std::span<const float> logits) {
  if (logits.empty()) throw Error("greedy_token: no logits");
  // max_element returns the first of equal largest elements: the lowest id.
  return static_cast<std::int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

TokenSampler::TokenSampler(const SamplingSettings& settings)
    : settings_(settings), engine_(settings.seed) {
  check_sampling(settings_);
}

double TokenSampler::uniform() {
  return static_cast<double>(engine_() >> 11) * 0x1.0p-53;
}

std::int32_t TokenSampler::next(std::span<const float> logits) {
  if (settings_.temperature == 0.0) return greedy_token(logits);
  if (logits.empty()) throw Error("TokenSampler::next: no logits");
  const std::size_t vocab = logits.size();
  // Candidates most likely first, the lower id first among equal logits (so top-k 1 is greedy).
  // The order of logits / temperature is the order of the logits: sort by those.
  order_.resize(vocab);
  std::iota(order_.begin(), order_.end(), 0);
  auto more_likely = [&](std::int32_t a, std::int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  };
  std::size_t kept = vocab;
  if (settings_.top_k > 0 && static_cast<std::size_t>(settings_.top_k) < vocab) {
    kept = static_cast<std::size_t>(settings_.top_k);
    std::partial_sort(order_.begin(), order_.begin() + static_cast<std::ptrdiff_t>(kept),
                      order_.end(), more_likely);
  } else {
    std::sort(order_.begin(), order_.end(), more_likely);
  }
  // Softmax of logits / temperature over the kept candidates, in double.
  const double top = logits[order_[0]];
  weights_.resize(kept);
  double total = 0.0;
  for (std::size_t i = 0; i < kept; ++i) {
    weights_[i] = std::exp((static_cast<double>(logits[order_[i]]) - top) / settings_.temperature);
    total += weights_[i];
  }
  // Nucleus: the fewest candidates whose probability reaches top_p (at least one).
  if (settings_.top_p < 1.0) {
    double mass = 0.0;
    std::size_t nucleus = 0;
    while (nucleus < kept) {
      mass += weights_[nucleus++];
      if (mass >= settings_.top_p * total) break;
    }
    kept = nucleus;
    total = mass;
  }
  const double target = uniform() * total;
  double mass = 0.0;
  for (std::size_t i = 0; i < kept; ++i) {
    mass += weights_[i];
    if (target < mass) return order_[i];
  }
  return order_[kept - 1];  // target within rounding of the total
}

}  // namespace trellis
