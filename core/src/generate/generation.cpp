#include "generate/generation.h"

#include <chrono>

#include "trellis/error.h"

namespace trellis {

std::string describe_stop(StopReason stop, std::int64_t max_new_tokens,
                          std::int64_t max_positions) {
  switch (stop) {
    case StopReason::max_new_tokens:
      return "reached --max-new-tokens " + std::to_string(max_new_tokens);
    case StopReason::max_positions:
      return "the model's " + std::to_string(max_positions) + " positions (max_seq_len) are full";
    case StopReason::end_of_text:
      return "end of text";
  }
  return "";
}

GenerationResult generate_tokens(Decoder& decoder, TokenSampler& sampler,
                                 std::span<const std::int32_t> prompt,
                                 const GenerationSettings& settings,
                                 const TokenCallback& on_token) {
  using Clock = std::chrono::steady_clock;
  const std::int64_t max_positions = decoder.architecture().max_positions;
  const auto prompt_length = static_cast<std::int64_t>(prompt.size());
  if (prompt.empty()) throw InputError("the prompt has no tokens; valid: at least one");
  if (prompt_length > max_positions) {
    throw InputError("the prompt is " + std::to_string(prompt_length) +
                     " tokens, more than the model's " + std::to_string(max_positions) +
                     " positions (max_seq_len)");
  }
  GenerationResult result;
  if (settings.max_new_tokens <= 0) return result;
  if (prompt_length == max_positions) {
    result.stop = StopReason::max_positions;
    return result;
  }
  const Clock::time_point start = Clock::now();
  auto since_start = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  std::vector<std::int32_t> text(prompt.begin(), prompt.end());
  decoder.reset();
  std::span<const float> logits = decoder.append(text);
  for (;;) {
    const std::int32_t token = sampler.next(logits);
    result.tokens.push_back(token);
    text.push_back(token);
    if (result.tokens.size() == 1) result.first_token_seconds = since_start();
    if (on_token) on_token(token);
    result.seconds = since_start();
    if (settings.end_of_text && token == *settings.end_of_text) {
      result.stop = StopReason::end_of_text;
      break;
    }
    if (static_cast<std::int64_t>(result.tokens.size()) == settings.max_new_tokens) {
      result.stop = StopReason::max_new_tokens;
      break;
    }
    if (static_cast<std::int64_t>(text.size()) == max_positions) {
      result.stop = StopReason::max_positions;
      break;
    }
    if (settings.use_cache) {
      logits = decoder.append(std::span<const std::int32_t>(&token, 1));
    } else {
      decoder.reset();
      logits = decoder.append(text);
    }
  }
  return result;
}

}  // namespace trellis
