// model.init. With "llmc:PATH", "checkpoint:DIR" or "hf:DIR" the checkpoint decides the model's
// shape: dimensions the user left out are taken from its header (manifest, config.json), and any
// the user gave must agree with it — a mismatch would otherwise surface as a shape error deep
// inside loading. A Hugging Face LLaMA's config.json decides the architecture the same way
// ([model] arch and the keys it presets).
#include <array>
#include <string>

#include "checkpoint/checkpoint_directory.h"
#include "checkpoint/hf_directory.h"
#include "checkpoint/manifest.h"
#include "config/config_check.h"
#include "config/config_schema.h"
#include "config/config_value.h"
#include "model/hf_model.h"
#include "model/hf_weights.h"
#include "model/llmc_checkpoint_header.h"
#include "os/absolute_path.h"
#include "trellis/error.h"

namespace trellis {

namespace {

constexpr const char* kValidForms =
    "valid: \"random\", \"llmc:PATH\" (an llm.c GPT-2 checkpoint, fp32 version 3), "
    "\"checkpoint:DIR\" (a Trellis checkpoint directory) or \"hf:DIR\" (a Hugging Face GPT-2 "
    "or LLaMA directory: config.json and safetensors weights)";

// The shape a checkpoint file gives, and how that file names each dimension.
struct SourceDims {
  std::int64_t vocab_size, max_seq_len, layers, heads, hidden;
  const char* names[5];  // as the file calls them, in the order above
};

// Fills the [model] keys the user left out from `source` and reports those that disagree with it.
// `origin` says where filled-in values came from (--dry-run shows it).
void apply_source_dims(CheckContext& ctx, const SourceDims& source, const std::string& what,
                       const std::string& origin) {
  ModelSection& model = ctx.config().model;
  struct Dim {
    const char* key;
    std::int64_t& value;
    std::int64_t from_source;
    const char* source_name;
  };
  const Dim dims[] = {
      {"model.vocab_size", model.vocab_size, source.vocab_size, source.names[0]},
      {"model.seq_len", model.seq_len, source.max_seq_len, source.names[1]},
      {"model.layers", model.layers, source.layers, source.names[2]},
      {"model.heads", model.heads, source.heads, source.names[3]},
      {"model.hidden", model.hidden, source.hidden, source.names[4]},
  };
  for (const Dim& dim : dims) {
    const std::string key = dim.key;
    if (ctx.explicit_value(key)) {
      if (!ctx.valid(key)) continue;
      const bool is_seq = key == "model.seq_len";
      const bool agrees = is_seq ? dim.value <= dim.from_source : dim.value == dim.from_source;
      if (agrees) continue;
      const std::string source_value = std::to_string(dim.from_source);
      ctx.problem(key, "the " + what + " has " + dim.source_name + " = " + source_value +
                           (is_seq ? " positions" : "") + "; valid: " + (is_seq ? "at most " : "") +
                           source_value + ", or leave " + key +
                           " out to take it from the checkpoint");
      ctx.invalidate(key);
    } else {
      dim.value = dim.from_source;
      ctx.set_origin(key, Origin::derived_from(origin));
    }
  }
}

void apply_llmc_dims(CheckContext& ctx, ResolvedRun& run, const LlmcCheckpointHeader& header,
                     const std::string& path) {
  apply_source_dims(ctx,
                    {header.vocab_size,
                     header.max_seq_len,
                     header.layers,
                     header.heads,
                     header.channels,
                     {"V", "maxT", "L", "NH", "C"}},
                    "llm.c checkpoint " + path, "header of " + path);
  run.llmc = header;
}

// A Hugging Face LLaMA's architecture: [model] arch and the keys it presets that the user left
// out (-1 for ffn_hidden and kv_heads counts as left out) are filled from config.json, with
// their origin saying so (check_model_architecture's preset leaves them); those given must agree.
void apply_hf_architecture(CheckContext& ctx, const ModelArchitecture& a,
                           const std::string& config_file) {
  struct Key {
    const char* key;
    FieldValue value;
    std::string source;  // what config.json says, for messages
  };
  auto is = [](const char* hf_key, const FieldValue& v) {
    return std::string(hf_key) + " = " + field_value_text(v);
  };
  const Key keys[] = {
      {"model.arch", std::string("llama"), "model_type \"llama\""},
      {"model.norm", std::string("rmsnorm"), "RMSNorm (model_type \"llama\")"},
      {"model.norm_eps", a.norm_eps, is("rms_norm_eps", a.norm_eps)},
      {"model.mlp", std::string("swiglu"), "SwiGLU (hidden_act \"silu\")"},
      {"model.ffn_hidden", a.ffn_hidden, is("intermediate_size", a.ffn_hidden)},
      {"model.positions", std::string("rope"), "rotary positions (model_type \"llama\")"},
      {"model.rope_theta", a.rope_theta, is("rope_theta", a.rope_theta)},
      {"model.kv_heads", a.kv_heads, is("num_key_value_heads", a.kv_heads)},
      {"model.bias", a.bias, is("attention_bias = mlp_bias", a.bias)},
      {"model.tie_embeddings", a.tie_embeddings, is("tie_word_embeddings", a.tie_embeddings)},
  };
  for (const Key& k : keys) {
    if (!ctx.valid(k.key)) continue;
    const KeySpec& spec = *find_key(k.key);
    const FieldValue given = spec.get(ctx.config());
    if (ctx.explicit_value(k.key) && given != FieldValue{std::int64_t{-1}}) {
      if (given == k.value) continue;
      ctx.problem(k.key, "the Hugging Face config " + config_file + " is a LLaMA with " + k.source +
                             "; valid: " + field_value_text(k.value) + ", or leave " + k.key +
                             " out to take it from the checkpoint");
      ctx.invalidate(k.key);
    } else {
      spec.set(ctx.config(), k.value);
      ctx.set_origin(k.key, Origin::derived_from(config_file));
    }
  }
}

// "hf:DIR": config.json gives the shape (and a LLaMA's the architecture), and every weight tensor
// is checked against it here, so that a broken directory stops the run before any rank starts.
void apply_hf(CheckContext& ctx, ResolvedRun& run, const std::string& dir) {
  const HfDirectory hf(dir);
  const std::string config_file = (hf.dir() / "config.json").string();
  const HfModel model = read_hf_model_config(hf.config(), "Hugging Face config " + config_file);
  const ModelDims& d = model.dims;
  const std::array<const char*, 5> names = hf_dim_names(model.family);
  apply_source_dims(ctx,
                    {d.vocab_size,
                     d.max_seq_len,
                     d.layers,
                     d.heads,
                     d.hidden,
                     {names[0], names[1], names[2], names[3], names[4]}},
                    "Hugging Face config " + config_file, config_file);
  if (model.family == HfFamily::llama) apply_hf_architecture(ctx, model.arch, config_file);
  check_hf_weights(hf, model);
  run.hf = model;
  run.init = {ModelInit::Kind::hf, dir};
}

}  // namespace

void check_model_init(CheckContext& ctx, ResolvedRun& run) {
  const std::string key = "model.init";
  if (!ctx.valid(key)) return;
  const std::string init = ctx.config().model.init;
  auto path_after = [&](std::string_view prefix) { return init.substr(prefix.size()); };

  if (init == "random") {
    run.init = {ModelInit::Kind::random, {}};
  } else if (init.starts_with("llmc:")) {
    const std::string path = path_after("llmc:");
    if (path.empty()) {
      ctx.problem(key, std::string("no path after 'llmc:'; ") + kValidForms);
      ctx.invalidate(key);
      return;
    }
    try {
      apply_llmc_dims(ctx, run, read_llmc_checkpoint_header(path), path);
      run.init = {ModelInit::Kind::llmc, path};
    } catch (const InputError& e) {
      std::error_code ec;
      const bool exists = std::filesystem::exists(path, ec);
      ctx.problem(key, exists ? std::string(e.what())
                              : "no such file: " + absolute_path_text(path) + ctx.path_note(key) +
                                    "; valid: the path of an llm.c GPT-2 checkpoint (fp32)");
      ctx.invalidate(key);
    }
  } else if (init.starts_with("checkpoint:")) {
    const std::string dir = path_after("checkpoint:");
    std::error_code ec;
    if (dir.empty()) {
      ctx.problem(key, std::string("no directory after 'checkpoint:'; ") + kValidForms);
    } else if (!std::filesystem::exists(dir, ec)) {
      ctx.problem(key, "no such directory: " + absolute_path_text(dir) + ctx.path_note(key) +
                           "; valid: a Trellis checkpoint directory");
    } else if (!std::filesystem::is_directory(dir, ec)) {
      ctx.problem(key, absolute_path_text(dir) +
                           " is not a directory; valid: a Trellis checkpoint directory (for "
                           "an llm.c checkpoint file write \"llmc:" +
                           dir + "\")");
    } else {
      try {
        const std::filesystem::path step_dir = resolve_checkpoint_path(dir);
        const std::filesystem::path manifest_file = step_dir / kManifestFile;
        const Manifest manifest = Manifest::read(manifest_file);
        const ModelDims& d = manifest.dims;
        apply_source_dims(ctx,
                          {d.vocab_size,
                           d.max_seq_len,
                           d.layers,
                           d.heads,
                           d.hidden,
                           {"vocab_size", "max_seq_len", "layers", "heads", "hidden"}},
                          "checkpoint " + manifest_file.string(),
                          "manifest " + manifest_file.string());
        run.init = {ModelInit::Kind::checkpoint, step_dir};
        run.checkpoint_dims = d;
        run.checkpoint_moe = manifest.moe;
        run.checkpoint_arch = manifest.arch;
        return;
      } catch (const InputError& e) {
        ctx.problem(key, std::string(e.what()));
      }
    }
    ctx.invalidate(key);
  } else if (init.starts_with("hf:")) {
    const std::string dir = path_after("hf:");
    std::error_code ec;
    if (dir.empty()) {
      ctx.problem(key, std::string("no directory after 'hf:'; ") + kValidForms);
    } else if (!std::filesystem::exists(dir, ec)) {
      ctx.problem(key, "no such directory: " + absolute_path_text(dir) + ctx.path_note(key) +
                           "; valid: a Hugging Face model directory (config.json, "
                           "model.safetensors or model.safetensors.index.json)");
    } else {
      try {
        apply_hf(ctx, run, dir);
        return;
      } catch (const InputError& e) {
        ctx.problem(key, std::string(e.what()));
      }
    }
    ctx.invalidate(key);
  } else {
    ctx.problem(key, std::string("unknown form; ") + kValidForms);
    ctx.invalidate(key);
  }
}

void check_model_export(CheckContext& ctx, ResolvedRun& run) {
  const std::string key = "model.export";
  if (!ctx.valid(key)) return;
  const std::string target = ctx.config().model.export_to;
  if (target.empty()) return;
  if (target.starts_with("hf:") && target.size() > 3) {
    std::filesystem::path dir = target.substr(3);
    std::error_code ec;
    if (std::filesystem::exists(dir, ec) && !std::filesystem::is_directory(dir, ec)) {
      ctx.problem(key, absolute_path_text(dir) + " is not a directory" + ctx.path_note(key) +
                           "; valid: the directory to write config.json and model.safetensors "
                           "into (made when missing; its other files are left alone)");
      ctx.invalidate(key);
      return;
    }
    run.export_hf = dir;
    return;
  }
  if (!target.starts_with("llmc:") || target.size() == 5) {
    ctx.problem(key,
                "unknown form; valid: \"\" (no export), \"llmc:PATH\" (an llm.c GPT-2 "
                "checkpoint, fp32, written when training ends) or \"hf:DIR\" (a Hugging Face "
                "GPT-2 or LLaMA directory, fp32 safetensors)");
    ctx.invalidate(key);
    return;
  }
  std::filesystem::path path = target.substr(5);
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    ctx.problem(key, absolute_path_text(path) + " is a directory" + ctx.path_note(key) +
                         "; valid: the path of the file to write");
    ctx.invalidate(key);
    return;
  }
  run.export_llmc = path;
}

}  // namespace trellis
