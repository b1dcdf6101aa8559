#include "train/training_sample.h"

#include <algorithm>
#include <system_error>

#include "checkpoint/checkpoint_writer.h"
#include "generate/decoder.h"
#include "generate/generation.h"
#include "generate/generation_model.h"
#include "generate/model_input.h"
#include "generate/token_sampler.h"
#include "train/model_export.h"
#include "trellis/error.h"

namespace trellis {

namespace {

// The default prompt: the training file's first tokens, enough to set the scene.
constexpr std::int64_t kDefaultPromptTokens = 4;

// Collective over `world`: the model's parameters (no optimizer state) as a Trellis checkpoint in
// `dir`, each value written by the one rank that exports it. Returns the step directory.
std::filesystem::path save_sample_checkpoint(const std::filesystem::path& dir,
                                             const ResolvedRun& run, std::int64_t step,
                                             const RankModel& model, const RankCoords& coords,
                                             Communicator& world, Kernels& kernels) {
  CheckpointSave save;
  save.dir = dir;
  save.keep = 1;
  save.header.step = step + 1;
  save.header.dims = run.dims;
  save.header.moe = run.moe;
  save.header.arch = run.arch;
  save.header.layout.world = run.world_size;
  save.header.layout.tensor_mode = run.config.parallel.tensor_mode;
  std::vector<CheckpointPiece> pieces;
  for (Parameter* p : model.exported_parameters(coords)) {
    pieces.push_back({p->name,
                      TensorRegion::whole_box(p->global_shape, p->shard_offset, p->value.shape()),
                      p->value});
  }
  return save_checkpoint(save, pieces, world, kernels);
}

}  // namespace

TrainingSampler::TrainingSampler(const ResolvedRun& run, const TokenDataset* train_data)
    : run_(run) {
  const LoggingSection& logging = run.config.logging;
  if (logging.sample_every == 0) return;
  if (!logging.sample_prompt.empty()) {
    prompt_ = run.tokenizer->encode(logging.sample_prompt);
    for (std::int32_t id : prompt_) {
      if (id >= run.dims.vocab_size) {
        throw InputError("[logging] sample_prompt has token " + std::to_string(id) +
                         ", and the model has " + std::to_string(run.dims.vocab_size) +
                         " tokens; valid: a prompt of the model's tokens");
      }
    }
  } else if (train_data != nullptr) {
    const std::int64_t n = std::min(kDefaultPromptTokens, train_data->tokens());
    for (std::int64_t i = 0; i < n; ++i) prompt_.push_back(train_data->token(i));
  }
  if (prompt_.empty()) prompt_.push_back(run.tokenizer->end_of_text().value_or(0));
  // The prompt and the sample share the model's positions.
  const auto room = static_cast<std::size_t>(std::max<std::int64_t>(run.dims.max_seq_len - 1, 1));
  if (prompt_.size() > room) prompt_.resize(room);
}

bool TrainingSampler::due(std::int64_t step) const {
  const std::int64_t every = run_.config.logging.sample_every;
  return every > 0 && (step + 1) % every == 0;
}

std::string TrainingSampler::sample(std::int64_t step, const RankModel& model,
                                    const RankCoords& coords, Communicator& world, Kernels& kernels,
                                    const std::shared_ptr<Allocator>& allocator) const {
  // GPT-2 goes through an llm.c file, as the export writes it; another architecture, which
  // llm.c's format cannot hold, through a checkpoint of its parameters (Trellis's names), read
  // back with the run's architecture.
  const std::filesystem::path out_dir(run_.config.run.out_dir);
  const bool gpt2 = run_.arch.is_gpt2(run_.dims.hidden, run_.dims.heads);
  ModelInput input;
  input.dims = run_.dims;
  input.arch = run_.arch;
  std::filesystem::path written;
  if (gpt2) {
    written = out_dir / "sample-model.bin";
    export_llmc_model(written, run_.dims, model, coords, world, kernels);
    input.kind = ModelInput::Kind::llmc;
    input.path = written;
  } else {
    written = out_dir / "sample-checkpoint";
    input.kind = ModelInput::Kind::trellis_checkpoint;
    input.path = save_sample_checkpoint(written, run_, step, model, coords, world, kernels);
  }
  std::string text;
  if (world.rank() == 0) {
    GenerationModel loaded = load_generation_model(input, *run_.registry, kernels, allocator);
    std::error_code ec;
    std::filesystem::remove_all(written, ec);
    Decoder decoder(loaded.architecture, std::move(loaded.weights), kernels, allocator);
    SamplingSettings sampling;
    sampling.seed = static_cast<std::uint64_t>(run_.config.run.seed) * 1000003u +
                    static_cast<std::uint64_t>(step + 1);
    TokenSampler sampler(sampling);
    GenerationSettings settings;
    settings.max_new_tokens = run_.config.logging.sample_tokens;
    settings.end_of_text = run_.tokenizer->end_of_text();
    const GenerationResult result = generate_tokens(decoder, sampler, prompt_, settings);
    const Tokenizer& tokenizer = *run_.tokenizer;
    auto shown = [&](std::int32_t id) {
      if (id == settings.end_of_text) return std::string();
      if (id < tokenizer.vocab_size()) return std::string(tokenizer.token_bytes(id));
      // Appended piece by piece: GCC 12's -Wrestrict misreads "[" + std::string.
      std::string unknown = "[";
      unknown += std::to_string(id);
      unknown += ']';
      return unknown;
    };
    std::string prompt_text, continuation;
    for (std::int32_t id : prompt_) prompt_text += shown(id);
    for (std::int32_t id : result.tokens) continuation += shown(id);
    text = "sample after step " + std::to_string(step + 1) + " (" +
           std::to_string(result.tokens.size()) + " tokens after the prompt):\n" + prompt_text +
           "|" + continuation;
  }
  world.barrier()->wait();
  return text;
}

}  // namespace trellis
