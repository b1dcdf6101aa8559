// libFuzzer harness: a Hugging Face config.json, GPT-2's or LLaMA's (model/hf_model.h,
// hf_gpt2_config.h, hf_llama_config.h), read as `[model] init = "hf:DIR"` reads it: the input is
// the file. Whatever it holds, reading it either gives a model whose sizes are positive, whose
// hidden size the heads divide and whose heads the key/value heads divide, whose architecture is
// its family's (GPT-2's exactly; LLaMA's RMSNorm, SwiGLU and rotary positions with a positive eps
// and theta and an even head size), or throws InputError (exit 2); nothing else may escape.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "model/hf_model.h"
#include "trellis/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const nlohmann::json config =
      nlohmann::json::parse(reinterpret_cast<const char*>(data),
                            reinterpret_cast<const char*>(data) + size, nullptr, false);
  if (config.is_discarded() || !config.is_object()) return 0;  // HfDirectory refuses these
  trellis::HfModel model;
  try {
    model = trellis::read_hf_model_config(config, "fuzz/config.json");
  } catch (const trellis::InputError&) {
    return 0;
  }
  const trellis::ModelDims& d = model.dims;
  const trellis::ModelArchitecture& a = model.arch;
  if (d.vocab_size < 1 || d.max_seq_len < 1 || d.layers < 1 || d.heads < 1 || d.hidden < 1 ||
      d.hidden % d.heads != 0 || a.kv_heads < 1 || d.heads % a.kv_heads != 0 || a.ffn_hidden < 1 ||
      !(a.norm_eps > 0.0) || !(a.rope_theta > 0.0))
    std::abort();
  // The family a run of this architecture exports is the one read.
  if (trellis::hf_family(a, d.hidden, d.heads) != model.family) std::abort();
  if (model.family == trellis::HfFamily::llama && (d.hidden / d.heads) % 2 != 0) std::abort();
  return 0;
}
