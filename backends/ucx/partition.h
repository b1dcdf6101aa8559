// Partition: cutting a message into nearly equal parts (ring blocks, pipeline chunks).
//
// Part i of `count` elements cut into `parts` is [count*i/parts, count*(i+1)/parts): sizes
// differ by at most one element, every rank computes the same cut, and nothing is left over when
// count is not a multiple of parts (an odd-sized tensor over 3 ranks).
#pragma once

#include <algorithm>
#include <cstddef>

namespace trellis::ucx {

// First element of part `i` (i == parts gives count).
inline std::size_t part_begin(std::size_t count, std::size_t parts, std::size_t i) {
  return static_cast<std::size_t>(static_cast<unsigned __int128>(count) * i / parts);
}

inline std::size_t part_size(std::size_t count, std::size_t parts, std::size_t i) {
  return part_begin(count, parts, i + 1) - part_begin(count, parts, i);
}

// How many pipeline chunks to cut `elements` elements of `element_bytes` into, so that each is
// at most about `chunk_bytes` (at least one chunk, even for nothing).
inline std::size_t chunk_count(std::size_t elements, std::size_t element_bytes,
                               std::size_t chunk_bytes) {
  const std::size_t per_chunk = std::max<std::size_t>(1, chunk_bytes / element_bytes);
  return std::max<std::size_t>(1, (elements + per_chunk - 1) / per_chunk);
}

// (a mod n) for a possibly negative a: ring neighbours and block indices.
inline int ring_index(long a, int n) {
  const long m = a % n;
  return static_cast<int>(m < 0 ? m + n : m);
}

}  // namespace trellis::ucx
