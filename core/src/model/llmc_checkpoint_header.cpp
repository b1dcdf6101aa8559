#include "model/llmc_checkpoint_header.h"

#include <fstream>

#include "dataset/llmc_header.h"
#include "os/absolute_path.h"
#include "trellis/error.h"

namespace trellis {

namespace {

// Token files start with this magic; naming it turns "bad magic" into a useful hint.
constexpr std::int32_t kTokenFileMagic = 20240520;

std::string where(const std::filesystem::path& file) {
  return "llm.c checkpoint " + absolute_path_text(file) + ": ";
}

}  // namespace

std::vector<LlmcTensor> llmc_parameter_tensors(const LlmcCheckpointHeader& h) {
  const std::int64_t C = h.channels, L = h.layers;
  const std::vector<std::pair<const char*, std::vector<std::int64_t>>> shapes = {
      {"wte", {h.padded_vocab, C}},
      {"wpe", {h.max_seq_len, C}},
      {"ln1w", {L, C}},
      {"ln1b", {L, C}},
      {"qkvw", {L, 3 * C, C}},
      {"qkvb", {L, 3 * C}},
      {"attprojw", {L, C, C}},
      {"attprojb", {L, C}},
      {"ln2w", {L, C}},
      {"ln2b", {L, C}},
      {"fcw", {L, 4 * C, C}},
      {"fcb", {L, 4 * C}},
      {"fcprojw", {L, C, 4 * C}},
      {"fcprojb", {L, C}},
      {"lnfw", {C}},
      {"lnfb", {C}},
  };
  std::vector<LlmcTensor> out;
  for (const auto& [name, shape] : shapes) {
    std::int64_t numel = 1;
    for (std::int64_t d : shape) numel *= d;
    out.push_back({name, shape, numel});
  }
  return out;
}

std::int64_t llmc_parameter_count(const LlmcCheckpointHeader& header) {
  std::int64_t total = 0;
  for (const LlmcTensor& t : llmc_parameter_tensors(header)) total += t.numel;
  return total;
}

LlmcCheckpointHeader read_llmc_checkpoint_header(const std::filesystem::path& file) {
  return check_llmc_checkpoint_header(read_llmc_raw_header(file, where(file)), file);
}

LlmcCheckpointHeader check_llmc_checkpoint_header(const LlmcRawHeader& raw,
                                                  const std::filesystem::path& file) {
  const auto& header = raw.words;
  const std::int64_t size = raw.file_bytes;
  if (header[0] != kLlmcCheckpointMagic) {
    throw InputError(where(file) + "bad magic " + std::to_string(header[0]) + " (expected " +
                     std::to_string(kLlmcCheckpointMagic) + ")" +
                     (header[0] == kTokenFileMagic ? "; this is an llm.c token file" : ""));
  }
  if (header[1] == kLlmcCheckpointBf16Version) {
    throw InputError(where(file) +
                     "version 5 holds bf16 weights; only fp32 checkpoints (version 3) are read; "
                     "write an fp32 one with llm.c's train_gpt2.py");
  }
  if (header[1] != kLlmcCheckpointFp32Version) {
    throw InputError(where(file) + "unsupported version " + std::to_string(header[1]) +
                     "; only fp32 checkpoints (version 3) are read");
  }
  LlmcCheckpointHeader h;
  h.version = header[1];
  h.max_seq_len = header[2];
  h.vocab_size = header[3];
  h.layers = header[4];
  h.heads = header[5];
  h.channels = header[6];
  h.padded_vocab = header[7];
  const std::string dims = "maxT " + std::to_string(h.max_seq_len) + ", V " +
                           std::to_string(h.vocab_size) + ", L " + std::to_string(h.layers) +
                           ", NH " + std::to_string(h.heads) + ", C " + std::to_string(h.channels) +
                           ", Vp " + std::to_string(h.padded_vocab);
  if (h.max_seq_len < 1 || h.vocab_size < 1 || h.layers < 1 || h.heads < 1 || h.channels < 1 ||
      h.padded_vocab < h.vocab_size) {
    throw InputError(where(file) + "impossible dimensions in the header (" + dims +
                     "); every one must be >= 1 and Vp >= V");
  }
  if (h.channels % h.heads != 0) {
    throw InputError(where(file) + "impossible dimensions in the header (" + dims +
                     "): C is not divisible by NH");
  }
  // Header fields are int32, so the parameter count of a corrupt header can overflow int64;
  // count in 128 bits first: (Vp + maxT) C + L (12 C^2 + 13 C) + 2 C.
  const __int128 C = h.channels;
  const __int128 wide = (__int128{h.padded_vocab} + h.max_seq_len) * C +
                        __int128{h.layers} * (12 * C * C + 13 * C) + 2 * C;
  if (wide > (__int128{1} << 58)) {
    throw InputError(where(file) + "impossible dimensions in the header (" + dims +
                     "): more than 2^58 parameters");
  }
  const std::int64_t params = llmc_parameter_count(h);
  const std::int64_t expected = kLlmcCheckpointHeaderBytes + 4 * params;
  if (size != expected) {
    throw InputError(where(file) + "size " + std::to_string(size) + " bytes does not match its " +
                     "header (" + dims + ": " + std::to_string(params) +
                     " fp32 parameters, expected " + std::to_string(expected) + " bytes); " +
                     (size < expected ? "truncated?" : "trailing data?"));
  }
  return h;
}

}  // namespace trellis
