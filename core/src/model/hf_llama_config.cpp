#include "model/hf_llama_config.h"

#include <cmath>

#include "model/hf_config_fields.h"
#include "trellis/error.h"

namespace trellis {

namespace {

using hf_fields::positive_int;
using hf_fields::shown;

constexpr const char* kSizes =
    "LLaMA's config.json has hidden_size, intermediate_size, num_attention_heads, "
    "num_hidden_layers, max_position_embeddings and vocab_size";
constexpr const char* kModel = "Trellis's LLaMA";

bool given(const nlohmann::json& config, const char* key) {
  return config.contains(key) && !config[key].is_null();
}

// config[key], a positive finite number; `fallback` when absent or null.
double positive_number(const nlohmann::json& config, const char* key, double fallback,
                       const std::string& who) {
  if (!given(config, key)) return fallback;
  const nlohmann::json& v = config[key];
  if (!v.is_number() || !std::isfinite(v.get<double>()) || !(v.get<double>() > 0.0))
    throw InputError(who + ": \"" + key + "\" is " + shown(v) + "; valid: a positive number");
  return v.get<double>();
}

// config[key], true or false; `fallback` when absent or null.
bool flag(const nlohmann::json& config, const char* key, bool fallback, const std::string& who) {
  if (!given(config, key)) return fallback;
  const nlohmann::json& v = config[key];
  if (!v.is_boolean())
    throw InputError(who + ": \"" + key + "\" is " + shown(v) + "; valid: true or false");
  return v.get<bool>();
}

std::string str(std::int64_t v) {
  return std::to_string(v);
}

}  // namespace

HfModel read_hf_llama_config(const nlohmann::json& config, const std::string& who) {
  const std::string type = hf_fields::model_type(config, who);
  if (type != "llama")
    hf_fields::refuse_model_type(type, "\"llama\" (Trellis reads Hugging Face's LLaMA)", who);
  HfModel m;
  m.family = HfFamily::llama;
  ModelDims& d = m.dims;
  d.vocab_size = d.padded_vocab = positive_int(config, "vocab_size", who, kSizes);
  d.seq_len = d.max_seq_len = positive_int(config, "max_position_embeddings", who, kSizes);
  d.layers = positive_int(config, "num_hidden_layers", who, kSizes);
  d.heads = positive_int(config, "num_attention_heads", who, kSizes);
  d.hidden = positive_int(config, "hidden_size", who, kSizes);
  if (d.hidden % d.heads != 0) {
    throw InputError(who + ": hidden_size " + str(d.hidden) +
                     " is not a multiple of num_attention_heads " + str(d.heads) +
                     "; valid: hidden_size divisible by num_attention_heads");
  }
  const std::int64_t head_size = d.hidden / d.heads;
  if (given(config, "head_dim")) {
    hf_fields::require(config, "head_dim", {nlohmann::json(head_size)},
                       "null or " + str(head_size) + " (hidden_size / num_attention_heads)", who,
                       kModel);
  }
  if (head_size % 2 != 0) {
    throw InputError(who + ": the head size hidden_size / num_attention_heads = " + str(head_size) +
                     " is odd, and rotary positions turn a head's channels in pairs; valid: an "
                     "even head size");
  }
  ModelArchitecture& a = m.arch;
  a.norm = ModelArchitecture::Norm::rmsnorm;
  a.norm_eps = positive_number(config, "rms_norm_eps", 1e-6, who);
  a.mlp = ModelArchitecture::Mlp::swiglu;
  a.ffn_hidden = positive_int(config, "intermediate_size", who, kSizes);
  hf_fields::require(config, "hidden_act", {"silu"}, "\"silu\" (LLaMA's SwiGLU)", who, kModel);
  a.positions = ModelArchitecture::Positions::rope;
  a.rope_theta = positive_number(config, "rope_theta", 10000.0, who);
  if (given(config, "rope_scaling")) {
    throw InputError(who + ": \"rope_scaling\" is " + shown(config["rope_scaling"]) +
                     "; rope_scaling is not supported (Trellis's rotary positions are "
                     "unscaled); valid: null, or no rope_scaling");
  }
  a.kv_heads = d.heads;
  if (given(config, "num_key_value_heads")) {
    a.kv_heads = positive_int(config, "num_key_value_heads", who, kSizes);
    if (d.heads % a.kv_heads != 0) {
      throw InputError(who + ": num_key_value_heads " + str(a.kv_heads) +
                       " does not divide num_attention_heads " + str(d.heads) +
                       " (each key/value head serves num_attention_heads / num_key_value_heads "
                       "query heads); valid: a divisor of num_attention_heads");
    }
  }
  // Trellis's linear layers all have biases or none ([model] bias).
  const bool attention_bias = flag(config, "attention_bias", false, who);
  const bool mlp_bias = flag(config, "mlp_bias", false, who);
  if (attention_bias != mlp_bias) {
    throw InputError(who + ": \"attention_bias\" is " + (attention_bias ? "true" : "false") +
                     " and \"mlp_bias\" " + (mlp_bias ? "true" : "false") +
                     " (absent: false), which Trellis's LLaMA does not compute: its linear "
                     "layers have biases all or none; valid: both false, or both true");
  }
  a.bias = attention_bias;
  a.tie_embeddings = flag(config, "tie_word_embeddings", false, who);
  return m;
}

nlohmann::ordered_json hf_llama_config(const ModelDims& dims, const ModelArchitecture& arch) {
  nlohmann::ordered_json c;
  c["architectures"] = {"LlamaForCausalLM"};
  c["model_type"] = "llama";
  c["attention_bias"] = arch.bias;
  // Trellis trains without dropout; a model loaded for more training should not gain any.
  c["attention_dropout"] = 0.0;
  c["head_dim"] = dims.hidden / dims.heads;
  c["hidden_act"] = "silu";
  c["hidden_size"] = dims.hidden;
  c["initializer_range"] = 0.02;
  c["intermediate_size"] = arch.ffn_hidden;
  c["max_position_embeddings"] = dims.max_seq_len;
  c["mlp_bias"] = arch.bias;
  c["num_attention_heads"] = dims.heads;
  c["num_hidden_layers"] = dims.layers;
  c["num_key_value_heads"] = arch.kv_heads;
  c["pretraining_tp"] = 1;
  c["rms_norm_eps"] = arch.norm_eps;
  c["rope_scaling"] = nullptr;
  c["rope_theta"] = arch.rope_theta;
  c["tie_word_embeddings"] = arch.tie_embeddings;
  c["torch_dtype"] = "float32";
  c["use_cache"] = true;
  c["vocab_size"] = dims.vocab_size;
  return c;
}

}  // namespace trellis
