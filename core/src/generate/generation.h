// The generation loop: a prompt through the decoder in one pass, then one token at a time —
// chosen by the sampler, handed to the caller at once (to stream it), fed back — until one of
// the stops. Timed, for trellis-generate's summary and the benchmark.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "generate/decoder.h"
#include "generate/token_sampler.h"

namespace trellis {

struct GenerationSettings {
  std::int64_t max_new_tokens = 64;
  std::optional<std::int32_t> end_of_text;  // stop once this token is generated
  // false: run the whole sequence again for every token, keeping nothing between steps (what
  // the cache saves, measured by bench/generate; the tests' reference for the cache).
  bool use_cache = true;
};

enum class StopReason : unsigned char { max_new_tokens, max_positions, end_of_text };

struct GenerationResult {
  std::vector<std::int32_t> tokens;  // generated; ends with the end-of-text token when it stopped
  StopReason stop = StopReason::max_new_tokens;
  double seconds = 0.0;              // from the start to the last token
  double first_token_seconds = 0.0;  // from the start to the first token (the prompt's pass)
};

// "reached --max-new-tokens 64", "the model's 1024 positions are full", "end of text".
std::string describe_stop(StopReason stop, std::int64_t max_new_tokens, std::int64_t max_positions);

// Called with each token as soon as it is chosen.
using TokenCallback = std::function<void(std::int32_t token)>;

// Generates after `prompt` (resetting the decoder first). The text — prompt and generated
// tokens — stays within the model's max_positions: generation stops when it is full. Throws
// InputError for an empty prompt, one longer than max_positions, or an id outside the vocabulary.
GenerationResult generate_tokens(Decoder& decoder, TokenSampler& sampler,
                                 std::span<const std::int32_t> prompt,
                                 const GenerationSettings& settings,
                                 const TokenCallback& on_token = {});

}  // namespace trellis
