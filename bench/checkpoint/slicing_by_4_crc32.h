// The CRC-32 Trellis computed itself until checkpoints switched to zlib's crc32_z: a table-driven
// "slicing by 4" loop (four table lookups per 32-bit word). Kept here only as the baseline of
// bench_crc32, which measured the switch (docs/benchmarks.md).
#pragma once

#include <cstddef>
#include <cstdint>

namespace trellis::bench {

// Continues a CRC over `bytes` more bytes; start with crc = 0 (zlib's convention).
std::uint32_t slicing_by_4_crc32(std::uint32_t crc, const void* data, std::size_t bytes) noexcept;

}  // namespace trellis::bench
