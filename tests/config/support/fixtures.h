// Input files for the config tests, written at test time (no binary blobs in the repository):
// llm.c token files and GPT-2 checkpoints, good and broken in one way each, and text.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace trellis::test {

struct TokenFileSpec {
  std::int32_t magic = 20240520;
  std::int32_t version = 1;
  std::int64_t tokens = 2000;       // written after the header
  std::int64_t header_tokens = -1;  // the count the header claims; -1: `tokens`
};
void write_token_file(const std::filesystem::path& file, const TokenFileSpec& spec);

// A tiny GPT-2 in llm.c's layout; the defaults describe a valid 2-layer model.
struct LlmcSpec {
  std::int32_t magic = 20240326;
  std::int32_t version = 3;
  std::int32_t max_seq_len = 64;
  std::int32_t vocab_size = 300;
  std::int32_t layers = 2;
  std::int32_t heads = 2;
  std::int32_t channels = 16;
  std::int32_t padded_vocab = 384;
  std::int64_t missing_bytes = 0;  // cut this many bytes off the end
};
void write_llmc_checkpoint(const std::filesystem::path& file, const LlmcSpec& spec);
std::int64_t llmc_spec_parameters(const LlmcSpec& spec);

// A tiny Hugging Face GPT-2 directory (config.json, model.safetensors of zeros); the defaults
// describe a valid model of LlmcSpec's default sizes.
struct HfSpec {
  std::string model_type = "gpt2";
  std::string activation = "gelu_new";
  bool transposed_qkv = false;  // h.0.attn.c_attn.weight as [3C, C], not Conv1D's [C, 3C]
  bool weights = true;          // false: config.json alone
};
void write_hf_gpt2(const std::filesystem::path& dir, const HfSpec& spec);

// A tiny Hugging Face LLaMA directory of LlmcSpec's default sizes (1 key/value head, MLP 32
// wide, rope_theta 10000, untied head), zeros; the defaults describe a valid model.
struct HfLlamaSpec {
  bool rope_scaling = false;  // config.json's rope_scaling a linear scaling
  bool head = true;           // false: no lm_head.weight
};
void write_hf_llama(const std::filesystem::path& dir, const HfLlamaSpec& spec);

void write_text_file(const std::filesystem::path& file, const std::string& text);

// An empty directory to work in: `name` under the test's work directory, removed first.
std::filesystem::path fresh_work_dir(const std::string& name);

// The standard fixtures, in `dir`:
//   tiny.txt              text, 4 KiB
//   tokens.bin            2000 tokens
//   tokens_bad_magic.bin  magic 12345
//   tokens_v2.bin         version 2
//   tokens_truncated.bin  header claims 2000 tokens, 1000 present
//   plain.bin             text in a .bin file
//   gpt2_tiny.bin         a valid checkpoint: maxT 64, V 300, L 2, NH 2, C 16, Vp 384
//   gpt2_bf16.bin         version 5
//   gpt2_bad_magic.bin    magic 1234
//   gpt2_truncated.bin    100 bytes short
//   checkpoint_dir/       an empty directory: init = "checkpoint:DIR" finds no checkpoint in it
//   hf_gpt2/              a valid Hugging Face GPT-2 of gpt2_tiny.bin's sizes
//   hf_mistral/           config.json's model_type "mistral"
//   hf_llama/             a valid Hugging Face LLaMA of gpt2_tiny.bin's sizes (1 kv head)
//   hf_llama_rope_scaling/  rope_scaling {"type": "linear", "factor": 2.0}
//   hf_llama_no_head/     the untied LLaMA without lm_head.weight
//   hf_gelu/              activation_function "gelu" (exact, not tanh)
//   hf_bad_shape/         h.0.attn.c_attn.weight [48, 16] where GPT-2 has [16, 48]
//   hf_no_weights/        config.json without weights
//   gpt2_tokenizer/       vocab.json and merges.txt of tests/tokenizer/data (341 tokens)
//   gpt2_tokenizer_bad_merges/  the same vocab.json, merges.txt line 3 naming a token it lacks
//   llmc_tokenizer.bin    llm.c's tokenizer file (version 2, one token)
void make_fixtures(const std::filesystem::path& dir);
// The tokenizer fixtures alone (part of make_fixtures).
void write_tokenizer_fixtures(const std::filesystem::path& dir);

}  // namespace trellis::test
