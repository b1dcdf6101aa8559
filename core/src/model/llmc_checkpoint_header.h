// llm.c's GPT-2 checkpoints (train_gpt2.c): a header of 256 little-endian int32 — magic 20240326,
// version, maxT, V, L, NH, C, Vp — then the parameters, fp32 for version 3 (version 5 holds bf16,
// which we do not read), in the order of llmc_parameter_tensors(). Reading the header checks the
// file before any weights are loaded and gives the model's dimensions.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "dataset/llmc_header.h"

namespace trellis {

inline constexpr std::int32_t kLlmcCheckpointMagic = 20240326;
inline constexpr std::int32_t kLlmcCheckpointFp32Version = 3;
inline constexpr std::int32_t kLlmcCheckpointBf16Version = 5;
inline constexpr std::int64_t kLlmcCheckpointHeaderBytes = 256 * 4;

struct LlmcCheckpointHeader {
  std::int32_t version = 0;
  std::int64_t max_seq_len = 0;   // maxT
  std::int64_t vocab_size = 0;    // V
  std::int64_t layers = 0;        // L
  std::int64_t heads = 0;         // NH
  std::int64_t channels = 0;      // C
  std::int64_t padded_vocab = 0;  // Vp >= V
};

// One parameter tensor of the checkpoint, in file order.
struct LlmcTensor {
  std::string name;  // llm.c's name: "wte", "wpe", "ln1w", ..., "lnfb"
  std::vector<std::int64_t> shape;
  std::int64_t numel = 0;
};

// wte [Vp, C], wpe [maxT, C], ln1w [L, C], ln1b [L, C], qkvw [L, 3C, C], qkvb [L, 3C],
// attprojw [L, C, C], attprojb [L, C], ln2w [L, C], ln2b [L, C], fcw [L, 4C, C], fcb [L, 4C],
// fcprojw [L, C, 4C], fcprojb [L, C], lnfw [C], lnfb [C].
std::vector<LlmcTensor> llmc_parameter_tensors(const LlmcCheckpointHeader& header);
std::int64_t llmc_parameter_count(const LlmcCheckpointHeader& header);

// Reads and checks the header and the file size (1024 + 4 x parameters). Throws InputError
// naming the file and what is wrong: unreadable, truncated, bad magic, a bf16 or unknown version,
// impossible dimensions, a size that does not match them.
LlmcCheckpointHeader read_llmc_checkpoint_header(const std::filesystem::path& file);
// The same checks on a header already read (`raw`: its words and the file's size); `file` names
// it in messages.
LlmcCheckpointHeader check_llmc_checkpoint_header(const LlmcRawHeader& raw,
                                                  const std::filesystem::path& file);

}  // namespace trellis
