#include "data/token_file_header.h"

#include <array>
#include <bit>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include "trellis/error.h"

namespace trellis {

// llm.c writes the header in the host's byte order, which is little-endian on every machine it
// runs on; so do we.
static_assert(std::endian::native == std::endian::little, "token files are little-endian");

namespace {

std::string where(const std::filesystem::path& file) {
  return "llm.c token file " + file.string() + ": ";
}

}  // namespace

bool has_token_file_magic(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::int32_t magic = 0;
  if (!in.read(reinterpret_cast<char*>(&magic), sizeof magic)) return false;
  return magic == kTokenFileMagic;
}

TokenFileHeader read_token_file_header(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(where(file) + "cannot open: " + std::strerror(errno));
  std::error_code ec;
  const auto size = static_cast<std::int64_t>(std::filesystem::file_size(file, ec));
  if (ec) throw InputError(where(file) + "cannot read its size: " + ec.message());

  std::array<std::int32_t, 256> header{};
  if (size < kTokenFileHeaderBytes ||
      !in.read(reinterpret_cast<char*>(header.data()), kTokenFileHeaderBytes)) {
    throw InputError(where(file) + "truncated: " + std::to_string(size) +
                     " bytes, shorter than the 1024-byte header");
  }
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
