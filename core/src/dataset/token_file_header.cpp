#include "dataset/token_file_header.h"

#include <fstream>
#include <string>

#include "dataset/llmc_header.h"
#include "os/absolute_path.h"
#include "trellis/error.h"

namespace trellis {

namespace {

std::string where(const std::filesystem::path& file) {
  return "llm.c token file " + absolute_path_text(file) + ": ";
}

}  // namespace

bool has_token_file_magic(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::int32_t magic = 0;
  if (!in.read(reinterpret_cast<char*>(&magic), sizeof magic)) return false;
  return magic == kTokenFileMagic;
}

TokenFileHeader read_token_file_header(const std::filesystem::path& file) {
  return check_token_file_header(read_llmc_raw_header(file, where(file)), file);
}

TokenFileHeader check_token_file_header(const LlmcRawHeader& raw,
                                        const std::filesystem::path& file) {
  const auto& header = raw.words;
  const std::int64_t size = raw.file_bytes;
  if (header[0] != kTokenFileMagic) {
    throw InputError(where(file) + "bad magic " + std::to_string(header[0]) + " (expected " +
                     std::to_string(kTokenFileMagic) + ")");
  }
  if (header[1] != kTokenFileVersion) {
    throw InputError(where(file) + "unsupported version " + std::to_string(header[1]) +
                     "; valid: version 1 (uint16 tokens)");
  }
  if (header[2] < 0) {
    throw InputError(where(file) + "negative token count " + std::to_string(header[2]) +
                     " in the header");
  }
  TokenFileHeader out;
  out.version = header[1];
  out.tokens = header[2];
  out.file_bytes = kTokenFileHeaderBytes + 2 * out.tokens;
  if (size != out.file_bytes) {
    throw InputError(where(file) + "size " + std::to_string(size) + " bytes does not match its " +
                     std::to_string(out.tokens) + " tokens (expected 1024 + 2 x " +
                     std::to_string(out.tokens) + " = " + std::to_string(out.file_bytes) +
                     " bytes); " + (size < out.file_bytes ? "truncated?" : "trailing data?"));
  }
  return out;
}

}  // namespace trellis
