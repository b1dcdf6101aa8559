// The input of the llm.c header harnesses: the file's size as 8 little-endian bytes (the top bit
// ignored: a size is never negative), then the 1024-byte header; shorter input is padded with
// zeros. Taking the size from the input reaches sizes no fuzzer could write as a file.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "dataset/llmc_header.h"

namespace trellis::fuzz {

inline LlmcRawHeader llmc_header_input(const std::uint8_t* data, std::size_t size) {
  LlmcRawHeader raw;
  std::uint64_t file_bytes = 0;
  std::memcpy(&file_bytes, data, std::min<std::size_t>(size, 8));
  raw.file_bytes = static_cast<std::int64_t>(file_bytes & INT64_MAX);
  if (size > 8) std::memcpy(raw.words.data(), data + 8, std::min<std::size_t>(size - 8, 1024));
  return raw;
}

}  // namespace trellis::fuzz
