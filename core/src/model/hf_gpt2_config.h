// A Hugging Face GPT-2's config.json, as Trellis reads and writes it. Trellis's GPT-2 is
// Hugging Face's GPT2LMHeadModel with these settings: GELU with the tanh approximation
// (activation_function "gelu_new" or its other names), LayerNorm eps 1e-5, the MLP 4 x n_embd
// wide, attention scaled by 1/sqrt(head size) and by nothing else, the head tied to the token
// embedding. A config.json that asks for anything else is refused, naming the key, rather than
// loaded into a model that would compute something different.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "trellis/config.h"

namespace trellis {

// The model's shape as config.json gives it.
struct HfGpt2Shape {
  std::int64_t vocab_size = 0;  // vocab_size
  std::int64_t positions = 0;   // n_positions
  std::int64_t layers = 0;      // n_layer
  std::int64_t heads = 0;       // n_head
  std::int64_t hidden = 0;      // n_embd

  // The model's dimensions, seq_len the longest (n_positions), the vocabulary unpadded.
  ModelDims dims() const;
};

// Checks a GPT-2 config.json and reads its shape. InputError naming `who`, the key, what it holds
// and what would be valid.
HfGpt2Shape read_hf_gpt2_config(const nlohmann::json& config, const std::string& who);

// The config.json of an export: GPT2LMHeadModel, fp32, no dropout.
nlohmann::ordered_json hf_gpt2_config(const ModelDims& dims);

}  // namespace trellis
