#include "support/fixtures.h"

#include <array>
#include <fstream>
#include <functional>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "checkpoint/safetensors_writer.h"
#include "model/hf_gpt2_config.h"
#include "model/hf_model.h"
#include "model/hf_weights.h"

namespace trellis::test {

namespace {

std::ofstream open_for_writing(const std::filesystem::path& file) {
  std::filesystem::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write test fixture " + file.string());
  return out;
}

void write_header(std::ofstream& out, const std::array<std::int32_t, 256>& header) {
  out.write(reinterpret_cast<const char*>(header.data()), sizeof header);
}

// `config` and zeros of the tensors `model` holds, each given to `edit` first (which may reshape
// it, or return false to leave it out).
void write_hf_zeros(const std::filesystem::path& dir, const nlohmann::ordered_json& config,
                    const HfModel& model, const std::function<bool(SafetensorsShape&)>& edit) {
  std::ofstream out = open_for_writing(dir / "config.json");
  out << config.dump(2) << "\n";
  SafetensorsWriter writer;
  for (SafetensorsShape t : hf_tensors(model)) {
    if (!edit(t)) continue;
    std::int64_t n = 1;
    for (std::int64_t d : t.shape) n *= d;
    writer.add(t.name, t.shape, std::vector<float>(static_cast<std::size_t>(n), 0.0f));
  }
  writer.write(dir / "model.safetensors");
}

// The Hugging Face fixtures' dimensions: gpt2_tiny.bin's (LlmcSpec's defaults).
ModelDims fixture_dims() {
  const LlmcSpec s;
  return HfGpt2Shape{s.vocab_size, s.max_seq_len, s.layers, s.heads, s.channels}.dims();
}

}  // namespace

void write_token_file(const std::filesystem::path& file, const TokenFileSpec& spec) {
  std::array<std::int32_t, 256> header{};
  header[0] = spec.magic;
  header[1] = spec.version;
  header[2] = static_cast<std::int32_t>(spec.header_tokens >= 0 ? spec.header_tokens : spec.tokens);
  std::ofstream out = open_for_writing(file);
  write_header(out, header);
  for (std::int64_t i = 0; i < spec.tokens; ++i) {
    const auto token = static_cast<std::uint16_t>(i % 256);
    out.write(reinterpret_cast<const char*>(&token), sizeof token);
  }
}

std::int64_t llmc_spec_parameters(const LlmcSpec& s) {
  const std::int64_t C = s.channels;
  return (std::int64_t{s.padded_vocab} + s.max_seq_len) * C + s.layers * (12 * C * C + 13 * C) +
         2 * C;
}

void write_llmc_checkpoint(const std::filesystem::path& file, const LlmcSpec& spec) {
  std::array<std::int32_t, 256> header{};
  header[0] = spec.magic;
  header[1] = spec.version;
  header[2] = spec.max_seq_len;
  header[3] = spec.vocab_size;
  header[4] = spec.layers;
  header[5] = spec.heads;
  header[6] = spec.channels;
  header[7] = spec.padded_vocab;
  std::ofstream out = open_for_writing(file);
  write_header(out, header);
  const std::int64_t bytes = 4 * llmc_spec_parameters(spec) - spec.missing_bytes;
  const std::vector<char> zeros(static_cast<std::size_t>(bytes), 0);
  out.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
}

void write_hf_gpt2(const std::filesystem::path& dir, const HfSpec& spec) {
  const ModelDims dims = fixture_dims();
  nlohmann::ordered_json config = hf_gpt2_config(dims);
  config["model_type"] = spec.model_type;
  config["activation_function"] = spec.activation;
  if (!spec.weights) {
    std::ofstream out = open_for_writing(dir / "config.json");
    out << config.dump(2) << "\n";
    return;
  }
  write_hf_zeros(dir, config, hf_model(dims, ModelArchitecture::gpt2(dims.hidden, dims.heads)),
                 [&](SafetensorsShape& t) {
                   if (spec.transposed_qkv && t.name.ends_with("h.0.attn.c_attn.weight"))
                     t.shape = {t.shape[1], t.shape[0]};
                   return true;
                 });
}

void write_hf_llama(const std::filesystem::path& dir, const HfLlamaSpec& spec) {
  ModelArchitecture arch;
  arch.norm = ModelArchitecture::Norm::rmsnorm;
  arch.mlp = ModelArchitecture::Mlp::swiglu;
  arch.ffn_hidden = 32;
  arch.positions = ModelArchitecture::Positions::rope;
  arch.kv_heads = 1;
  arch.bias = false;
  arch.tie_embeddings = false;
  const HfModel model = hf_model(fixture_dims(), arch);
  nlohmann::ordered_json config = hf_config_json(model);
  if (spec.rope_scaling) config["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
  write_hf_zeros(dir, config, model, [&](const SafetensorsShape& t) {
    return spec.head || t.name != "lm_head.weight";
  });
}

void write_text_file(const std::filesystem::path& file, const std::string& text) {
  std::ofstream out = open_for_writing(file);
  out << text;
}

std::filesystem::path fresh_work_dir(const std::string& name) {
  const std::filesystem::path dir = std::filesystem::path(CONFIG_TEST_WORK_DIR) / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

void write_tokenizer_fixtures(const std::filesystem::path& dir) {
  // The tokenizer tests' vocabulary (341 tokens), and a copy whose merges name a token it lacks.
  const std::filesystem::path data =
      std::filesystem::path(TRELLIS_SOURCE_DIR) / "tests/tokenizer/data";
  for (const char* tokenizer : {"gpt2_tokenizer", "gpt2_tokenizer_bad_merges"}) {
    std::filesystem::create_directories(dir / tokenizer);
    std::filesystem::copy_file(data / "vocab.json", dir / tokenizer / "vocab.json",
                               std::filesystem::copy_options::overwrite_existing);
  }
  std::filesystem::copy_file(data / "merges.txt", dir / "gpt2_tokenizer" / "merges.txt",
                             std::filesystem::copy_options::overwrite_existing);
  write_text_file(dir / "gpt2_tokenizer_bad_merges" / "merges.txt", "#version: 0.2\nĠ t\nĠt zz\n");
  // llm.c's tokenizer file: magic, version 2, one token "a", end-of-text 0.
  std::array<std::int32_t, 256> header{};
  header[0] = 20240328;
  header[1] = 2;
  header[2] = 1;
  std::ofstream out = open_for_writing(dir / "llmc_tokenizer.bin");
  write_header(out, header);
  out << '\x01' << 'a';
}

void make_fixtures(const std::filesystem::path& dir) {
  std::string text;
  while (text.size() < 4096) text += "A trellis holds the vine while it grows; so does a plan. ";
  write_text_file(dir / "tiny.txt", text);
  write_token_file(dir / "tokens.bin", {});
  write_token_file(dir / "tokens_bad_magic.bin", {.magic = 12345});
  write_token_file(dir / "tokens_v2.bin", {.version = 2});
  write_token_file(dir / "tokens_truncated.bin", {.tokens = 1000, .header_tokens = 2000});
  write_text_file(dir / "plain.bin", "these are words, not tokens\n");
  // Two ranks, each running its backward before the other's forward has arrived.
  write_text_file(dir / "deadlock.csv", "0F0,0B0,0F1,0B1\n1F0,1F1,1B1,1B0\n");
  // A stage number far beyond any pipeline's.
  write_text_file(dir / "huge_stage.csv", "0F0,0B0,630469530F0\n1F0,1B0\n");
  write_llmc_checkpoint(dir / "gpt2_tiny.bin", {});
  write_llmc_checkpoint(dir / "gpt2_bf16.bin", {.version = 5});
  write_llmc_checkpoint(dir / "gpt2_bad_magic.bin", {.magic = 1234});
  write_llmc_checkpoint(dir / "gpt2_truncated.bin", {.missing_bytes = 100});
  std::filesystem::create_directories(dir / "checkpoint_dir");
  write_hf_gpt2(dir / "hf_gpt2", {});
  write_hf_gpt2(dir / "hf_mistral", {.model_type = "mistral"});
  write_hf_llama(dir / "hf_llama", {});
  write_hf_llama(dir / "hf_llama_rope_scaling", {.rope_scaling = true});
  write_hf_llama(dir / "hf_llama_no_head", {.head = false});
  write_hf_gpt2(dir / "hf_gelu", {.activation = "gelu"});
  write_hf_gpt2(dir / "hf_bad_shape", {.transposed_qkv = true});
  write_hf_gpt2(dir / "hf_no_weights", {.weights = false});
  write_tokenizer_fixtures(dir);
}

}  // namespace trellis::test
