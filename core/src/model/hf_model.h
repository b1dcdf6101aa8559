// A Hugging Face model as Trellis reads and writes it: GPT-2 (GPT2LMHeadModel,
// model/hf_gpt2_config.h) or LLaMA (LlamaForCausalLM, model/hf_llama_config.h), each with its
// dimensions and architecture. config.json's model_type says which a directory holds; a run's
// ModelArchitecture says which an export writes. model/hf_weights.h maps the tensors of either.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "trellis/config.h"

namespace trellis {

enum class HfFamily : unsigned char { gpt2, llama };

struct HfModel {
  HfFamily family = HfFamily::gpt2;
  // Read from config.json: the vocabulary unpadded, seq_len and max_seq_len its positions. For
  // the weights (model/hf_weights.h): the run's, whose padding rows the files leave out.
  ModelDims dims;
  ModelArchitecture arch;
};

// "GPT-2", "LLaMA".
const char* hf_family_name(HfFamily family);

// How config.json names the vocabulary, the positions, the layers, the heads and the hidden size.
std::array<const char*, 5> hf_dim_names(HfFamily family);

// config.json read strictly by its model_type ("gpt2" or "llama"; hf_gpt2_config.h and
// hf_llama_config.h say what each accepts). InputError naming `who`, the key and what is valid.
HfModel read_hf_model_config(const nlohmann::json& config, const std::string& who);

// The family whose model computes `arch`: GPT-2's (exactly is_gpt2) or LLaMA's (RMSNorm, SwiGLU
// and rotary positions, with any width, key/value heads, eps, theta, biases and head); none for
// a mix that neither writes.
// `hidden` and `heads` are the model's (GPT-2's MLP width and heads follow from them).
std::optional<HfFamily> hf_family(const ModelArchitecture& arch, std::int64_t hidden,
                                  std::int64_t heads);

// {hf_family, dims, arch}; Error naming the architecture when it has no family.
HfModel hf_model(const ModelDims& dims, const ModelArchitecture& arch);

// The config.json of an export (hf_gpt2_config or hf_llama_config).
nlohmann::ordered_json hf_config_json(const HfModel& model);

}  // namespace trellis
