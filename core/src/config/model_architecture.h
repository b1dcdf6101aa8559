// [model] arch and the keys it presets, as trellis/config.h's ModelArchitecture: the presets, the
// names the config writes the choices with, and the one-line description --dry-run and the
// start-up banner show.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "trellis/config.h"

namespace trellis {

// LLaMA's MLP width for a model of `hidden` channels, as Megatron-LM sizes a SwiGLU MLP of the
// same parameters as GELU's 4 x hidden: int((4 x hidden x 2/3) / 64) x 64. 0 below hidden 24.
std::int64_t llama_ffn_hidden(std::int64_t hidden);

// The preset `arch` ("gpt2" or "llama"; anything else is GPT-2's) for `hidden` and `heads`.
ModelArchitecture architecture_preset(std::string_view arch, std::int64_t hidden,
                                      std::int64_t heads);

// The config's words for the choices: "layernorm", "gelu", "rope", ...
const char* norm_name(ModelArchitecture::Norm norm);
const char* mlp_name(ModelArchitecture::Mlp mlp);
const char* positions_name(ModelArchitecture::Positions positions);

// `arch_name` alone when `arch` is exactly GPT-2's, else the name and what each block computes:
// "llama (rmsnorm, swiglu 2816, rope theta 10000, 8 kv heads, no bias, untied head)".
std::string architecture_text(std::string_view arch_name, const ModelArchitecture& arch,
                              const ModelDims& dims);

}  // namespace trellis
