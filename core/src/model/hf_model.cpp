#include "model/hf_model.h"

#include "model/hf_config_fields.h"
#include "model/hf_gpt2_config.h"
#include "model/hf_llama_config.h"
#include "trellis/error.h"

namespace trellis {

const char* hf_family_name(HfFamily family) {
  return family == HfFamily::llama ? "LLaMA" : "GPT-2";
}

std::array<const char*, 5> hf_dim_names(HfFamily family) {
  if (family == HfFamily::llama) {
    return {"vocab_size", "max_position_embeddings", "num_hidden_layers", "num_attention_heads",
            "hidden_size"};
  }
  return {"vocab_size", "n_positions", "n_layer", "n_head", "n_embd"};
}

HfModel read_hf_model_config(const nlohmann::json& config, const std::string& who) {
  const std::string type = hf_fields::model_type(config, who);
  if (type == "llama") return read_hf_llama_config(config, who);
  if (type != "gpt2") {
    hf_fields::refuse_model_type(
        type, "\"gpt2\" or \"llama\" (Trellis reads Hugging Face's GPT-2 and LLaMA)", who);
  }
  const HfGpt2Shape shape = read_hf_gpt2_config(config, who);
  HfModel m;
  m.dims = shape.dims();
  m.arch = ModelArchitecture::gpt2(m.dims.hidden, m.dims.heads);
  return m;
}

std::optional<HfFamily> hf_family(const ModelArchitecture& arch, std::int64_t hidden,
                                  std::int64_t heads) {
  if (arch.is_gpt2(hidden, heads)) return HfFamily::gpt2;
  if (arch.norm == ModelArchitecture::Norm::rmsnorm && arch.mlp == ModelArchitecture::Mlp::swiglu &&
      arch.positions == ModelArchitecture::Positions::rope) {
    return HfFamily::llama;
  }
  return std::nullopt;
}

HfModel hf_model(const ModelDims& dims, const ModelArchitecture& arch) {
  const std::optional<HfFamily> family = hf_family(arch, dims.hidden, dims.heads);
  if (!family) {
    throw Error(
        "the model's blocks are neither GPT-2's nor LLaMA's (RMSNorm, SwiGLU and rotary "
        "positions), so no Hugging Face model holds them");
  }
  return {*family, dims, arch};
}

nlohmann::ordered_json hf_config_json(const HfModel& model) {
  if (model.family == HfFamily::llama) return hf_llama_config(model.dims, model.arch);
  return hf_gpt2_config(model.dims);
}

}  // namespace trellis
