#include "dataset/llmc_header.h"

#include <bit>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "trellis/error.h"

namespace trellis {

// llm.c writes its headers in the host's byte order, little-endian on every machine it runs on;
// so do we.
static_assert(std::endian::native == std::endian::little, "llm.c files are little-endian");

LlmcRawHeader read_llmc_raw_header(const std::filesystem::path& file, const std::string& where) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(where + "cannot open: " + std::strerror(errno));
  std::error_code ec;
  LlmcRawHeader header;
  header.file_bytes = static_cast<std::int64_t>(std::filesystem::file_size(file, ec));
  if (ec) throw InputError(where + "cannot read its size: " + ec.message());
  if (header.file_bytes < kLlmcHeaderBytes ||
      !in.read(reinterpret_cast<char*>(header.words.data()), kLlmcHeaderBytes)) {
    throw InputError(where + "truncated: " + std::to_string(header.file_bytes) +
                     " bytes, shorter than the 1024-byte header");
  }
  return header;
}

}  // namespace trellis
