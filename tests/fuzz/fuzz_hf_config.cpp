// libFuzzer harness: a Hugging Face GPT-2's config.json (model/hf_gpt2_config.h), read as
// `[model] init = "hf:DIR"` reads it: the input is the file. Whatever it holds, reading it either
// gives a shape whose sizes are positive and whose hidden size the heads divide, or throws
// InputError (exit 2); nothing else may escape.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "model/hf_gpt2_config.h"
#include "trellis/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const nlohmann::json config =
      nlohmann::json::parse(reinterpret_cast<const char*>(data),
                            reinterpret_cast<const char*>(data) + size, nullptr, false);
  if (config.is_discarded() || !config.is_object()) return 0;  // HfDirectory refuses these
  trellis::HfGpt2Shape shape;
  try {
    shape = trellis::read_hf_gpt2_config(config, "fuzz/config.json");
  } catch (const trellis::InputError&) {
    return 0;
  }
  if (shape.vocab_size < 1 || shape.positions < 1 || shape.layers < 1 || shape.heads < 1 ||
      shape.hidden < 1 || shape.hidden % shape.heads != 0)
    std::abort();
  return 0;
}
