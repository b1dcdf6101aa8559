// What trellis-generate's CHECKPOINT_OR_CONFIG names, found out from the path itself:
//   - a Trellis checkpoint: a step directory (it has manifest.json), or a checkpoints directory
//     (its newest complete step);
//   - a Hugging Face GPT-2 or LLaMA directory (config.json and its safetensors); one that also
//     holds vocab.json and merges.txt brings GPT-2's tokenizer;
//   - an llm.c checkpoint file (any other file that is not TOML);
//   - a run's TOML config (*.toml): the newest checkpoint in its [checkpoint] dir when there is
//     one, else what its [model] init names (random: the run's initial weights, from its seed);
//     its [data] tokenizer, when not "bytes", is the model's tokenizer.
// The model's dimensions come from the input's own header, manifest or config.json; loading the
// weights is generation_model.h's. Its architecture (trellis/config.h's ModelArchitecture): an
// llm.c file and a Hugging Face GPT-2 hold GPT-2s, a Hugging Face LLaMA's config.json gives its
// own (model/hf_llama_config.h); a run's config gives its own ([model] arch
// and its keys); a Trellis checkpoint read directly gives what its tensors show (their names and
// shapes: norm, MLP and width, positions, kv_heads, biases, head) — manifest.json records no
// rope_theta or norm_eps, so a checkpoint with rotary positions or RMSNorm is read through its
// run's config only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "config/run_environment.h"
#include "trellis/config.h"

namespace trellis {

struct ModelInput {
  enum class Kind : unsigned char { trellis_checkpoint, hf, llmc, random };
  Kind kind = Kind::random;
  std::filesystem::path path;  // the step directory, HF directory or llm.c file; random: none
  ModelDims dims;
  ModelArchitecture arch;  // what each block computes
  std::uint64_t seed = 0;  // random: the run's [run] seed
  // The tokenizer the input comes with ("gpt2:DIR"); empty: none (the caller's default).
  std::string tokenizer;
  // A run config's [plugins] paths, searched for the layer family after TRELLIS_PLUGIN_PATH.
  std::vector<std::string> plugin_paths;
  // What it is, for the banner: "llm.c checkpoint /abs/model.bin".
  std::string description;
};

// Throws InputError naming the path, what it is not and the forms that are valid; a run config
// is checked as trellis-plan checks it (config/load_purpose.h: its data files need not exist).
// A model with experts is refused (the decoder is dense), and so is a checkpoint whose tensors are
// not of the architecture its run's config names.
ModelInput find_model_input(const std::filesystem::path& given, const RunEnvironment& env);

}  // namespace trellis
