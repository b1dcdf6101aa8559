// model.init. With "llmc:PATH" the checkpoint decides the model's shape: dimensions the user
// left out are taken from its header, and any the user gave must agree with it — a mismatch
// would otherwise surface as a shape error deep inside loading.
#include <string>

#include "config/config_check.h"
#include "config/config_value.h"
#include "model/llmc_checkpoint_header.h"
#include "trellis/error.h"

namespace trellis {

namespace {

constexpr const char* kValidForms =
    "valid: \"random\", \"llmc:PATH\" (an llm.c GPT-2 checkpoint, fp32 version 3) or "
    "\"checkpoint:DIR\" (a Trellis checkpoint directory)";

// Where a relative path was resolved from, for "no such file" messages.
std::string written_note(const CheckContext& ctx, const std::string& key) {
  auto it = ctx.read().written_paths.find(key);
  if (it == ctx.read().written_paths.end()) return "";
  return " (" + toml_quoted(it->second) + " resolved against the config file's directory)";
}

void apply_llmc_dims(CheckContext& ctx, ResolvedRun& run, const LlmcCheckpointHeader& header,
                     const std::string& path) {
  ModelSection& model = ctx.config().model;
  struct Dim {
    const char* key;
    std::int64_t& value;
    std::int64_t from_header;
    const char* header_name;
  };
  const Dim dims[] = {
      {"model.vocab_size", model.vocab_size, header.vocab_size, "V"},
      {"model.seq_len", model.seq_len, header.max_seq_len, "maxT"},
      {"model.layers", model.layers, header.layers, "L"},
      {"model.heads", model.heads, header.heads, "NH"},
      {"model.hidden", model.hidden, header.channels, "C"},
  };
  for (const Dim& dim : dims) {
    const std::string key = dim.key;
    const std::string field = key.substr(6);
    if (ctx.explicit_value(key)) {
      if (!ctx.valid(key)) continue;
      const bool is_seq = key == "model.seq_len";
      const bool agrees = is_seq ? dim.value <= dim.from_header : dim.value == dim.from_header;
      if (agrees) continue;
      const std::string header_value = std::to_string(dim.from_header);
      ctx.problem(key, std::string("the llm.c checkpoint ") + path + " has " + dim.header_name +
                           " = " + header_value + (is_seq ? " positions" : "") +
                           "; valid: " + (is_seq ? "at most " : "") + header_value + ", or leave " +
                           key + " out to take it from the checkpoint");
      ctx.invalidate(key);
    } else {
      dim.value = dim.from_header;
      ctx.set_origin(key, Origin::derived_from("header of " + path));
    }
  }
  run.llmc = header;
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
                              : "no such file: " + path + written_note(ctx, key) +
                                    "; valid: the path of an llm.c GPT-2 checkpoint (fp32)");
      ctx.invalidate(key);
    }
  } else if (init.starts_with("checkpoint:")) {
    const std::string dir = path_after("checkpoint:");
    std::error_code ec;
    if (dir.empty()) {
      ctx.problem(key, std::string("no directory after 'checkpoint:'; ") + kValidForms);
    } else if (!std::filesystem::exists(dir, ec)) {
      ctx.problem(key, "no such directory: " + dir + written_note(ctx, key) +
                           "; valid: a Trellis checkpoint directory");
    } else if (!std::filesystem::is_directory(dir, ec)) {
      ctx.problem(key, dir +
                           " is not a directory; valid: a Trellis checkpoint directory (for "
                           "an llm.c checkpoint file write \"llmc:" +
                           dir + "\")");
    } else {
      run.init = {ModelInit::Kind::checkpoint, dir};
      return;
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
  if (!target.starts_with("llmc:") || target.size() == 5) {
    ctx.problem(key,
                "unknown form; valid: \"\" (no export) or \"llmc:PATH\" (an llm.c GPT-2 "
                "checkpoint, fp32, written when training ends)");
    ctx.invalidate(key);
    return;
  }
  std::filesystem::path path = target.substr(5);
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    ctx.problem(key, path.string() + " is a directory; valid: the path of the file to write");
    ctx.invalidate(key);
    return;
  }
  run.export_llmc = path;
}

}  // namespace trellis
