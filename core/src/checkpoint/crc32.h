// CRC-32 (the IEEE polynomial of zlib, gzip and PNG), the checksum of every shard in a Trellis
// checkpoint: cheap enough to compute while writing, and it catches flipped bytes and torn
// writes, which is what a checkpoint on a local or shared disk meets. zlib computes it (faster
// than the table code Trellis had: docs/benchmarks.md); this keeps zlib's header out of callers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace trellis {

// Continues a CRC over `bytes` more bytes; start with crc = 0. Computing it in pieces gives the
// same value as over the whole.
std::uint32_t crc32_update(std::uint32_t crc, const void* data, std::size_t bytes) noexcept;

// "1a2b3c4d": eight lowercase hex digits, as the manifest stores it.
std::string crc32_hex(std::uint32_t crc);

}  // namespace trellis
