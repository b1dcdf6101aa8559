#include "checkpoint/crc32.h"

#include <zlib.h>

#include <cstdio>

namespace trellis {

std::uint32_t crc32_update(std::uint32_t crc, const void* data, std::size_t bytes) noexcept {
  // crc32_z takes a size_t length (crc32's is 32 bits: shards pass 4 GiB).
  return static_cast<std::uint32_t>(
      ::crc32_z(crc, static_cast<const unsigned char*>(data), static_cast<z_size_t>(bytes)));
}

std::string crc32_hex(std::uint32_t crc) {
  char text[9];
  std::snprintf(text, sizeof(text), "%08x", crc);
  return text;
}

}  // namespace trellis
