// The 1024-byte header both of llm.c's file formats start with: 256 little-endian int32 words,
// the first a magic number. Token files and GPT-2 checkpoints read it here and interpret the
// words themselves.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>

namespace trellis {

inline constexpr std::int64_t kLlmcHeaderBytes = 256 * 4;

struct LlmcRawHeader {
  std::array<std::int32_t, 256> words{};
  std::int64_t file_bytes = 0;
};

// Reads the header and the file's size. Throws InputError starting with `where` ("llm.c token
// file X: ") when the file cannot be opened or is shorter than the header.
LlmcRawHeader read_llmc_raw_header(const std::filesystem::path& file, const std::string& where);

}  // namespace trellis
