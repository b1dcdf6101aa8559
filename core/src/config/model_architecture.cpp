#include "config/model_architecture.h"

#include <cstdio>

namespace trellis {

namespace {

// A number as short as %g writes it: 10000, 1e-06, 500000.
std::string short_number(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", v);
  return buffer;
}

}  // namespace

std::int64_t llama_ffn_hidden(std::int64_t hidden) {
  // floor(floor(8 hidden / 3) / 64) = floor(8 hidden / 192): Megatron-LM's int() of a positive
  // quotient, in integers.
  return 8 * hidden / 3 / 64 * 64;
}

ModelArchitecture architecture_preset(std::string_view arch, std::int64_t hidden,
                                      std::int64_t heads) {
  ModelArchitecture a = ModelArchitecture::gpt2(hidden, heads);
  if (arch == "llama") {
    a.norm = ModelArchitecture::Norm::rmsnorm;
    a.norm_eps = 1e-5;
    a.mlp = ModelArchitecture::Mlp::swiglu;
    a.ffn_hidden = llama_ffn_hidden(hidden);
    a.positions = ModelArchitecture::Positions::rope;
    a.rope_theta = 10000.0;
    a.kv_heads = heads;
    a.bias = false;
    a.tie_embeddings = false;
  }
  return a;
}

const char* norm_name(ModelArchitecture::Norm norm) {
  return norm == ModelArchitecture::Norm::rmsnorm ? "rmsnorm" : "layernorm";
}

const char* mlp_name(ModelArchitecture::Mlp mlp) {
  return mlp == ModelArchitecture::Mlp::swiglu ? "swiglu" : "gelu";
}

const char* positions_name(ModelArchitecture::Positions positions) {
  return positions == ModelArchitecture::Positions::rope ? "rope" : "learned";
}

std::string architecture_text(std::string_view arch_name, const ModelArchitecture& arch,
                              const ModelDims& dims) {
  std::string out(arch_name);
  if (arch.is_gpt2(dims.hidden, dims.heads)) return out;
  out += " (";
  out += norm_name(arch.norm);
  if (arch.norm_eps != 1e-5) out += " eps " + short_number(arch.norm_eps);
  out += ", ";
  out += mlp_name(arch.mlp);
  out += " " + std::to_string(arch.ffn_hidden) + ", ";
  if (arch.positions == ModelArchitecture::Positions::rope) {
    out += "rope theta " + short_number(arch.rope_theta);
  } else {
    out += "learned positions";
  }
  out += ", " + std::to_string(arch.kv_heads) + (arch.kv_heads == 1 ? " kv head" : " kv heads");
  out += arch.bias ? ", bias" : ", no bias";
  out += arch.tie_embeddings ? ", tied head)" : ", untied head)";
  return out;
}

}  // namespace trellis
