#include "model/hf_gpt2_config.h"

#include <cmath>
#include <set>

#include "model/hf_config_fields.h"
#include "trellis/error.h"

namespace trellis {

namespace {

using hf_fields::positive_int;
using hf_fields::shown;

constexpr const char* kSizes =
    "GPT-2's config.json has n_embd, n_head, n_layer, n_positions and vocab_size";
constexpr const char* kModel = "Trellis's GPT-2";

void require(const nlohmann::json& config, const char* key, const std::set<nlohmann::json>& valid,
             const std::string& valid_text, const std::string& who) {
  hf_fields::require(config, key, valid, valid_text, who, kModel);
}

}  // namespace

ModelDims HfGpt2Shape::dims() const {
  ModelDims d;
  d.vocab_size = d.padded_vocab = vocab_size;
  d.seq_len = d.max_seq_len = positions;
  d.layers = layers;
  d.heads = heads;
  d.hidden = hidden;
  return d;
}

HfGpt2Shape read_hf_gpt2_config(const nlohmann::json& config, const std::string& who) {
  const std::string type = hf_fields::model_type(config, who);
  if (type != "gpt2")
    hf_fields::refuse_model_type(type, "\"gpt2\" (Trellis reads Hugging Face's GPT-2)", who);
  HfGpt2Shape shape;
  shape.vocab_size = positive_int(config, "vocab_size", who, kSizes);
  shape.positions = positive_int(config, "n_positions", who, kSizes);
  shape.layers = positive_int(config, "n_layer", who, kSizes);
  shape.heads = positive_int(config, "n_head", who, kSizes);
  shape.hidden = positive_int(config, "n_embd", who, kSizes);
  if (shape.hidden % shape.heads != 0) {
    throw InputError(who + ": n_embd " + std::to_string(shape.hidden) +
                     " is not a multiple of n_head " + std::to_string(shape.heads) +
                     "; valid: n_embd divisible by n_head");
  }
  // Hugging Face's names for GELU with the tanh approximation.
  require(config, "activation_function", {"gelu_new", "gelu_pytorch_tanh", "gelu_fast"},
          "\"gelu_new\" (GELU with the tanh approximation, also \"gelu_pytorch_tanh\")", who);
  if (config.contains("n_inner") && !config["n_inner"].is_null()) {
    require(config, "n_inner", {nlohmann::json(4 * shape.hidden)},
            "null or " + std::to_string(4 * shape.hidden) + " (4 x n_embd)", who);
  }
  if (config.contains("layer_norm_epsilon")) {
    const nlohmann::json& eps = config["layer_norm_epsilon"];
    if (!eps.is_number() || std::abs(eps.get<double>() - 1e-5) > 1e-12) {
      throw InputError(who + ": \"layer_norm_epsilon\" is " + shown(eps) +
                       ", which Trellis's GPT-2 does not compute; valid: 1e-05");
    }
  }
  require(config, "scale_attn_weights", {true}, "true", who);
  require(config, "scale_attn_by_inverse_layer_idx", {false}, "false", who);
  require(config, "tie_word_embeddings", {true},
          "true (Trellis's GPT-2 ties the head to the token embedding)", who);
  return shape;
}

nlohmann::ordered_json hf_gpt2_config(const ModelDims& dims) {
  nlohmann::ordered_json c;
  c["architectures"] = {"GPT2LMHeadModel"};
  c["model_type"] = "gpt2";
  c["vocab_size"] = dims.vocab_size;
  c["n_positions"] = dims.max_seq_len;
  c["n_ctx"] = dims.max_seq_len;
  c["n_embd"] = dims.hidden;
  c["n_layer"] = dims.layers;
  c["n_head"] = dims.heads;
  c["n_inner"] = nullptr;
  c["activation_function"] = "gelu_new";
  c["layer_norm_epsilon"] = 1e-5;
  // Trellis trains without dropout; a model loaded for more training should not gain any.
  c["resid_pdrop"] = 0.0;
  c["embd_pdrop"] = 0.0;
  c["attn_pdrop"] = 0.0;
  c["initializer_range"] = 0.02;
  c["scale_attn_weights"] = true;
  c["scale_attn_by_inverse_layer_idx"] = false;
  c["reorder_and_upcast_attn"] = false;
  c["tie_word_embeddings"] = true;
  c["torch_dtype"] = "float32";
  return c;
}

}  // namespace trellis
