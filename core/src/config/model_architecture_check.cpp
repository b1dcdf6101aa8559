// [model] arch and the keys it presets (norm, norm_eps, mlp, ffn_hidden, positions, rope_theta,
// kv_heads, bias, tie_embeddings): the preset fills the keys the config leaves out, the values
// are checked against each other and the model's shape, and what core cannot run with an
// architecture other than GPT-2's is refused.
#include <algorithm>
#include <string>

#include "checkpoint/manifest.h"
#include "config/architecture_messages.h"
#include "config/config_check.h"
#include "config/config_schema.h"
#include "config/config_value.h"
#include "config/layout_hints.h"
#include "config/model_architecture.h"
#include "model/hf_model.h"
#include "trellis/error.h"

namespace trellis {

namespace {

std::string str(std::int64_t v) {
  return std::to_string(v);
}

// A key the preset fills when the config leaves it out: its value in the preset as the config
// writes it, and how the preset derived it (for --dry-run's origin column).
struct PresetKey {
  const char* key;
  FieldValue value;
  std::string how;
};

std::vector<PresetKey> preset_keys(const std::string& arch_name, const ModelArchitecture& a) {
  const bool gpt2 = arch_name == "gpt2";
  const std::string preset = gpt2 ? std::string() : "arch \"" + arch_name + "\"";
  const std::string ffn_how =
      gpt2 ? "4 x hidden" : preset + ": 8 x hidden / 3, rounded down to a multiple of 64";
  return {
      {"model.norm", std::string(norm_name(a.norm)), preset},
      {"model.norm_eps", a.norm_eps, preset},
      {"model.mlp", std::string(mlp_name(a.mlp)), preset},
      {"model.ffn_hidden", a.ffn_hidden, ffn_how},
      {"model.positions", std::string(positions_name(a.positions)), preset},
      {"model.rope_theta", a.rope_theta, preset},
      {"model.kv_heads", a.kv_heads, gpt2 ? "heads" : preset + ": heads"},
      {"model.bias", a.bias, preset},
      {"model.tie_embeddings", a.tie_embeddings, preset},
  };
}

// The architecture the [model] keys describe, once the preset has filled them.
ModelArchitecture architecture_of(const ModelSection& m) {
  ModelArchitecture a;
  a.norm =
      m.norm == "rmsnorm" ? ModelArchitecture::Norm::rmsnorm : ModelArchitecture::Norm::layernorm;
  a.norm_eps = m.norm_eps;
  a.mlp = m.mlp == "swiglu" ? ModelArchitecture::Mlp::swiglu : ModelArchitecture::Mlp::gelu;
  a.ffn_hidden = m.ffn_hidden;
  a.positions = m.positions == "rope" ? ModelArchitecture::Positions::rope
                                      : ModelArchitecture::Positions::learned;
  a.rope_theta = m.rope_theta;
  a.kv_heads = m.kv_heads;
  a.bias = m.bias;
  a.tie_embeddings = m.tie_embeddings;
  return a;
}

// The checks of the values against each other and the model's shape. False when the
// architecture is not one a family can be asked to build.
bool check_values(CheckContext& ctx, const ModelSection& m, const ModelArchitecture& a) {
  bool ok = true;
  if (a.ffn_hidden == 0) {
    // Only a preset gives 0 (a written 0 is out of range): llama's rounding at a small hidden.
    const std::int64_t suggestion = std::max<std::int64_t>(1, 8 * m.hidden / 3);
    ctx.problem(ctx.blame({"model.arch", "model.hidden"}),
                "arch \"" + m.arch +
                    "\" sizes the MLP as 8 x hidden / 3 rounded down to a multiple of 64, "
                    "which is 0 for hidden " +
                    str(m.hidden) + "; valid: set model.ffn_hidden (e.g. " + str(suggestion) +
                    "), or hidden >= 24");
    ok = false;
  }
  if (a.kv_heads > m.heads) {
    ctx.problem(ctx.blame({"model.kv_heads", "model.heads"}),
                "kv_heads " + str(a.kv_heads) + " is more than the " + str(m.heads) +
                    " heads (each key/value head serves heads / kv_heads query heads); valid: "
                    "kv_heads dividing heads " +
                    str(m.heads) + " (e.g. " + divisors_near(m.heads, a.kv_heads) + ")");
    ok = false;
  } else if (m.heads % a.kv_heads != 0) {
    ctx.problem(ctx.blame({"model.kv_heads", "model.heads"}),
                "kv_heads " + str(a.kv_heads) + " does not divide the " + str(m.heads) +
                    " heads (each key/value head serves heads / kv_heads query heads); valid: "
                    "kv_heads dividing heads " +
                    str(m.heads) + " (e.g. " + divisors_near(m.heads, a.kv_heads) + ")");
    ok = false;
  }
  if (a.norm == ModelArchitecture::Norm::layernorm && a.norm_eps != 1e-5) {
    ctx.problem(ctx.blame({"model.norm_eps", "model.norm", "model.arch"}),
                "LayerNorm runs with epsilon 1e-5 only (the layernorm kernels fix it), and "
                "norm_eps is " +
                    toml_float_text(a.norm_eps) +
                    "; valid: norm_eps = 1e-5 with norm = \"layernorm\", or norm = \"rmsnorm\"");
    ok = false;
  }
  if (a.positions == ModelArchitecture::Positions::rope && m.hidden % m.heads == 0 &&
      (m.hidden / m.heads) % 2 != 0) {
    ctx.problem(ctx.blame({"model.positions", "model.arch", "model.heads", "model.hidden"}),
                "rotary positions turn a head's channels in pairs, and the head size hidden " +
                    str(m.hidden) + " / heads " + str(m.heads) + " = " + str(m.hidden / m.heads) +
                    " is odd; valid: hidden / heads even, or positions = \"learned\"");
    ok = false;
  }
  if (a.positions == ModelArchitecture::Positions::learned &&
      ctx.explicit_value("model.rope_theta")) {
    // Set with learned positions it would silently do nothing.
    ctx.problem("model.rope_theta",
                "applies to rotary positions only, and positions is \"learned\"; valid: remove "
                "model.rope_theta, or set positions = \"rope\"");
  }
  return ok;
}

// What core runs for GPT-2 only: llm.c's format, a Hugging Face GPT-2 (a Hugging Face export
// also writes LLaMA's blocks); and MoE experts, which are GPT-2's MLP (GELU over 4 x hidden,
// with biases), whatever the rest of the block is.
void check_combinations(CheckContext& ctx, const ModelSection& m, const ModelArchitecture& a,
                        const ResolvedRun& run) {
  if (ctx.valid("model.experts") && m.experts > 0) {
    const auto expert_problem = [&](const std::string& key, const std::string& what,
                                    const std::string& valid) {
      ctx.problem(ctx.blame({key, "model.experts"}),
                  "the experts of a mixture of experts are GPT-2's MLP (GELU over 4 x hidden, "
                  "with biases), and " +
                      what +
                      std::string(ctx.explicit_value(key) ? "" : " (arch \"" + m.arch + "\")") +
                      " with experts " + str(m.experts) + "; valid: " + valid + ", or experts = 0");
    };
    if (a.mlp == ModelArchitecture::Mlp::swiglu) {
      expert_problem("model.mlp", "mlp is \"swiglu\"", "mlp = \"gelu\"");
    } else if (a.ffn_hidden != 4 * m.hidden) {
      expert_problem("model.ffn_hidden", "ffn_hidden is " + str(a.ffn_hidden),
                     "ffn_hidden = " + str(4 * m.hidden));
    } else if (!a.bias) {
      expert_problem("model.bias", "bias is false", "bias = true");
    }
  }
  if (a.is_gpt2(m.hidden, m.heads)) return;
  const std::string key = non_gpt2_key(m, a);
  const std::string asks = non_gpt2_phrase(ctx, key);
  const std::string remedy = gpt2_remedy(key);
  if (ctx.valid("model.init")) {
    if (m.init.starts_with("llmc:")) {
      ctx.problem(ctx.blame({"model.init", key}),
                  "an llm.c checkpoint holds a GPT-2, and " + asks +
                      "; valid: init = \"random\" or \"checkpoint:DIR\", or " + remedy);
    } else if (m.init.starts_with("hf:") && !(run.hf && run.hf->family == HfFamily::llama)) {
      // A LLaMA directory set the architecture itself (model_init_check).
      ctx.problem(ctx.blame({"model.init", key}),
                  "init = \"hf:DIR\" names a Hugging Face GPT-2, and " + asks +
                      "; valid: a Hugging Face LLaMA directory, init = \"random\" or "
                      "\"checkpoint:DIR\", or " +
                      remedy);
    }
  }
  if (ctx.valid("model.export") && m.export_to.starts_with("llmc:")) {
    ctx.problem(ctx.blame({"model.export", key}),
                "llm.c's format holds a GPT-2 only, and " + asks +
                    "; valid: export = \"\" (the checkpoints hold the model), or " + remedy);
  } else if (ctx.valid("model.export") && m.export_to.starts_with("hf:") &&
             !hf_family(a, m.hidden, m.heads)) {
    // Hugging Face's LLaMA: RMSNorm, SwiGLU and rotary positions, the rest as the config says.
    std::string llama;
    if (a.norm != ModelArchitecture::Norm::rmsnorm) llama += ", norm = \"rmsnorm\"";
    if (a.mlp != ModelArchitecture::Mlp::swiglu) llama += ", mlp = \"swiglu\"";
    if (a.positions != ModelArchitecture::Positions::rope) llama += ", positions = \"rope\"";
    llama = llama.substr(2);
    ctx.problem(ctx.blame({"model.export", key}),
                "export = \"hf:DIR\" writes a Hugging Face GPT-2 or LLaMA, and " + asks +
                    ", which is not LLaMA's either (LLaMA's needs " + llama +
                    "); valid: export = \"\" (the checkpoints hold the model), " + remedy +
                    ", or set " + llama);
  }
}

}  // namespace

// The key that makes the architecture another than GPT-2's, for messages: model.arch when it
// names another preset, else the first key set to something GPT-2's block does not compute.
std::string non_gpt2_key(const ModelSection& m, const ModelArchitecture& a) {
  if (m.arch != "gpt2") return "model.arch";
  const ModelArchitecture g = ModelArchitecture::gpt2(m.hidden, m.heads);
  if (a.norm != g.norm) return "model.norm";
  if (a.mlp != g.mlp) return "model.mlp";
  if (a.ffn_hidden != g.ffn_hidden) return "model.ffn_hidden";
  if (a.positions != g.positions) return "model.positions";
  if (a.kv_heads != g.kv_heads) return "model.kv_heads";
  if (a.bias != g.bias) return "model.bias";
  return "model.tie_embeddings";
}

// "model.arch = \"llama\"": what asks for another architecture than GPT-2's.
std::string non_gpt2_phrase(const CheckContext& ctx, const std::string& key) {
  return key + " = " + ctx.value_text(key) + " asks for another architecture than GPT-2's";
}

// How to get GPT-2's architecture back.
std::string gpt2_remedy(const std::string& key) {
  return key == "model.arch" ? "arch = \"gpt2\"" : "remove " + key + " (GPT-2's is the default)";
}

bool check_model_architecture(CheckContext& ctx, ResolvedRun& run) {
  if (!ctx.valid({"model.arch", "model.hidden", "model.heads"})) return false;
  ModelSection& m = ctx.config().model;
  const ModelArchitecture preset = architecture_preset(m.arch, m.hidden, m.heads);
  bool known = true;
  for (const PresetKey& p : preset_keys(m.arch, preset)) {
    if (!ctx.valid(p.key)) {
      known = false;
      continue;
    }
    const KeySpec& spec = *find_key(p.key);
    // ffn_hidden and kv_heads may also ask for the preset's value with -1.
    const bool unset = spec.get(ctx.config()) == FieldValue{std::int64_t{-1}};
    // A value a Hugging Face LLaMA's config.json decided (model_init_check) stays too.
    const bool derived = ctx.origin(p.key).kind == Origin::Kind::derived;
    if ((ctx.explicit_value(p.key) || derived) && !unset) continue;
    spec.set(ctx.config(), p.value);
    if (!p.how.empty() || unset) {
      Origin origin = ctx.origin(p.key);
      origin.note = unset ? "-1: " + (p.how.empty() ? "the preset's" : p.how) : p.how;
      ctx.set_origin(p.key, origin);
    }
  }
  if (!known) return false;
  const ModelArchitecture arch = architecture_of(m);
  if (!check_values(ctx, m, arch)) return false;
  check_combinations(ctx, m, arch, run);
  // init = "checkpoint:DIR": its manifest records what its blocks compute.
  if (run.checkpoint_arch) {
    for (const std::string& d : architecture_differences(*run.checkpoint_arch, arch)) {
      ctx.problem(ctx.blame({"model.arch", "model.init"}),
                  "the checkpoint of model.init is of another architecture: " + d +
                      "; valid: the [model] arch and keys of the run that wrote it");
    }
  }
  run.arch = arch;
  return true;
}

}  // namespace trellis
