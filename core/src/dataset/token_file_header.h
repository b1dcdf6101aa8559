// llm.c's token files: a header of 256 little-endian int32 — magic 20240520, version 1, the
// token count n — then n uint16 tokens. Reading the header checks a file before any data is
// loaded, so a wrong or truncated file is a config error, not a crash mid-run.
#pragma once

#include <cstdint>
#include <filesystem>

#include "dataset/llmc_header.h"

namespace trellis {

inline constexpr std::int32_t kTokenFileMagic = 20240520;
inline constexpr std::int32_t kTokenFileVersion = 1;
inline constexpr std::int64_t kTokenFileHeaderBytes = 256 * 4;

struct TokenFileHeader {
  std::int32_t version = 0;
  std::int64_t tokens = 0;      // uint16 tokens following the header
  std::int64_t file_bytes = 0;  // = kTokenFileHeaderBytes + 2 * tokens

  std::int64_t tokens_offset() const noexcept { return kTokenFileHeaderBytes; }
};

// True when the file can be read and starts with the token-file magic (it may still be broken:
// read_token_file_header says how).
bool has_token_file_magic(const std::filesystem::path& file);

// Reads and checks the header and the file size. Throws InputError naming the file and what is
// wrong: unreadable, shorter than a header, bad magic, unknown version, a size that does not
// match the token count.
TokenFileHeader read_token_file_header(const std::filesystem::path& file);
// The same checks on a header already read (`raw`: its words and the file's size); `file` names
// it in messages.
TokenFileHeader check_token_file_header(const LlmcRawHeader& raw,
                                        const std::filesystem::path& file);

}  // namespace trellis
