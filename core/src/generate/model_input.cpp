#include "generate/model_input.h"

#include <system_error>

#include "checkpoint/checkpoint_directory.h"
#include "checkpoint/hf_directory.h"
#include "checkpoint/manifest.h"
#include "config/config_loader.h"
#include "config/model_architecture.h"
#include "model/hf_model.h"
#include "model/llmc_checkpoint_header.h"
#include "os/absolute_path.h"
#include "trellis/error.h"

namespace trellis {

namespace {

namespace fs = std::filesystem;

constexpr const char* kValidForms =
    "valid: a Trellis checkpoint (a step-NNNNNNNN directory holding manifest.json, or the "
    "checkpoints directory holding those), a Hugging Face GPT-2 or LLaMA directory (config.json "
    "and model.safetensors), an llm.c checkpoint file, or a run's TOML config (*.toml)";

// A model's dimensions as generation uses them: a sequence may fill the position table.
ModelDims generation_dims(std::int64_t vocab, std::int64_t padded_vocab, std::int64_t positions,
                          std::int64_t layers, std::int64_t heads, std::int64_t hidden) {
  return {.vocab_size = vocab,
          .padded_vocab = padded_vocab,
          .seq_len = positions,
          .max_seq_len = positions,
          .layers = layers,
          .heads = heads,
          .hidden = hidden};
}

void refuse_experts(std::int64_t experts, const std::string& what) {
  if (experts == 0) return;
  throw InputError(what + " is a mixture of experts (" + std::to_string(experts) +
                   " experts); trellis-generate runs dense models only");
}

// `run_arch`: the architecture of the run config the checkpoint was found through (its
// [checkpoint] dir or [model] init), which must be the one its manifest records; null for a
// checkpoint named directly.
ModelInput trellis_checkpoint(const fs::path& step_dir,
                              const ModelArchitecture* run_arch = nullptr) {
  const Manifest manifest = Manifest::read(step_dir / kManifestFile);
  ModelInput in;
  in.kind = ModelInput::Kind::trellis_checkpoint;
  in.path = step_dir;
  in.dims = manifest.dims;
  in.description = "Trellis checkpoint " + absolute_path_text(step_dir) + " (step " +
                   std::to_string(manifest.step) + ")";
  refuse_experts(manifest.moe.experts, in.description);
  if (run_arch != nullptr) {
    const std::vector<std::string> differences = architecture_differences(manifest.arch, *run_arch);
    if (!differences.empty()) {
      throw InputError(in.description + " is of another architecture than its run's config: " +
                       differences.front() + "; valid: the config of the run that wrote it");
    }
  }
  in.arch = manifest.arch;
  return in;
}

ModelInput hf_directory(const fs::path& dir) {
  const HfDirectory hf(dir);
  const std::string who = "Hugging Face config " + absolute_path_text(dir / "config.json");
  // GPT-2's or LLaMA's config.json: the dimensions and the architecture.
  const HfModel model = read_hf_model_config(hf.config(), who);
  const ModelDims& d = model.dims;
  ModelInput in;
  in.kind = ModelInput::Kind::hf;
  in.path = dir;
  // One rank needs no padding rows: the table is the vocabulary's.
  in.dims = generation_dims(d.vocab_size, d.vocab_size, d.max_seq_len, d.layers, d.heads, d.hidden);
  in.arch = model.arch;
  in.description =
      std::string("Hugging Face ") + hf_family_name(model.family) + " " + absolute_path_text(dir);
  std::error_code ec;
  if (fs::is_regular_file(dir / "vocab.json", ec) && fs::is_regular_file(dir / "merges.txt", ec))
    in.tokenizer = "gpt2:" + dir.string();
  return in;
}

ModelInput llmc_file(const fs::path& file) {
  LlmcCheckpointHeader header;
  try {
    header = read_llmc_checkpoint_header(file);
  } catch (const InputError& e) {
    throw InputError(std::string(e.what()) + "\n" + absolute_path_text(file) +
                     " is a file not named *.toml, so it was read as an llm.c checkpoint; " +
                     kValidForms);
  }
  ModelInput in;
  in.kind = ModelInput::Kind::llmc;
  in.path = file;
  in.dims = generation_dims(header.vocab_size, header.padded_vocab, header.max_seq_len,
                            header.layers, header.heads, header.channels);
  in.arch = ModelArchitecture::gpt2(in.dims.hidden, in.dims.heads);
  in.description = "llm.c checkpoint " + absolute_path_text(file);
  return in;
}

ModelInput run_config(const fs::path& file, const RunEnvironment& env) {
  const ResolvedRun run = load_run(file, {}, env, LoadPurpose::plan);
  refuse_experts(run.moe.experts, "run config " + absolute_path_text(file));
  ModelInput in;
  if (const std::optional<CheckpointStep> newest = newest_checkpoint(run.config.checkpoint.dir)) {
    in = trellis_checkpoint(newest->dir, &run.arch);
    in.description += " (the newest in the [checkpoint] dir of " + absolute_path_text(file) + ")";
  } else {
    switch (run.init.kind) {
      case ModelInit::Kind::llmc:
        in = llmc_file(run.init.path);
        break;
      case ModelInit::Kind::hf:
        in = hf_directory(run.init.path);
        break;
      case ModelInit::Kind::checkpoint:
        in = trellis_checkpoint(run.init.path, &run.arch);
        break;
      case ModelInit::Kind::random:
        in.kind = ModelInput::Kind::random;
        in.dims = run.dims;
        in.dims.seq_len = run.dims.max_seq_len;
        in.arch = run.arch;
        in.seed = static_cast<std::uint64_t>(run.config.run.seed);
        in.description =
            "random initial weights (seed " + std::to_string(run.config.run.seed) + ")";
        break;
    }
    in.description += " ([model] init of " + absolute_path_text(file) +
                      "; its [checkpoint] dir holds no checkpoint)";
  }
  // The run trains on text its [data] tokenizer encodes: the model's tokens are that one's.
  // "bytes" is also the key's default, which leaves a Hugging Face init's own tokenizer in place.
  if (run.config.data.tokenizer != "bytes") in.tokenizer = run.config.data.tokenizer;
  in.plugin_paths = run.config.plugins.paths;
  return in;
}

}  // namespace

ModelInput find_model_input(const fs::path& given, const RunEnvironment& env) {
  std::error_code ec;
  const fs::file_status status = fs::status(given, ec);
  if (!fs::exists(status)) {
    throw InputError(absolute_path_text(given) + " does not exist; " + kValidForms);
  }
  if (fs::is_directory(status)) {
    if (fs::exists(given / kManifestFile, ec)) return trellis_checkpoint(given);
    if (fs::exists(given / "config.json", ec)) return hf_directory(given);
    if (const std::optional<CheckpointStep> newest = newest_checkpoint(given))
      return trellis_checkpoint(newest->dir);
    throw InputError(absolute_path_text(given) +
                     " is a directory with no manifest.json, no config.json and no complete "
                     "step-NNNNNNNN checkpoint; " +
                     kValidForms);
  }
  if (given.extension() == ".toml") return run_config(given, env);
  return llmc_file(given);
}

}  // namespace trellis
