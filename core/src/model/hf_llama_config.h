// A Hugging Face LLaMA's config.json (LlamaForCausalLM), as Trellis reads and writes it. Trellis
// computes Hugging Face's LLaMA with RMSNorm of any eps (rms_norm_eps), a SwiGLU MLP of any width
// (hidden_act "silu", intermediate_size), rotary positions of any base (rope_theta, unscaled) in
// Hugging Face's "rotate half" layout, grouped-query attention (num_key_value_heads), biases on
// every linear layer or on none (attention_bias and mlp_bias alike), a tied or an untied head.
// A config.json that asks for anything else (rope_scaling, a head_dim other than
// hidden_size / num_attention_heads, another activation) is refused, naming the key.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "model/hf_model.h"

namespace trellis {

// Checks a LLaMA config.json (model_type "llama") and reads its dimensions and architecture.
// Absent keys take LlamaConfig's defaults: num_key_value_heads = num_attention_heads,
// rms_norm_eps 1e-6, rope_theta 10000, hidden_act "silu", no biases, an untied head.
HfModel read_hf_llama_config(const nlohmann::json& config, const std::string& who);

// The config.json of an export, as LlamaForCausalLM.save_pretrained writes it: fp32, no
// dropout, no special token ids, max_position_embeddings the run's longest sequence.
nlohmann::ordered_json hf_llama_config(const ModelDims& dims, const ModelArchitecture& arch);

}  // namespace trellis
