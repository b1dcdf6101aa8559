// all_gather for small messages: Bruck's algorithm.
//
// Rank r keeps a rotated copy of the output in which position i holds rank r+i's block. In round
// d = 1, 2, 4, ... it sends its first min(d, n-d) blocks to rank r-d and receives as many from
// rank r+d into positions d.. . After ceil(log2 n) rounds all n positions are filled, for any n
// (not only powers of two); one rotation puts the blocks in rank order.
//
// Slot of the round with distance d: log2(d).
#include <cstring>

#include "algorithms.h"
#include "operation.h"
#include "partition.h"

namespace trellis::ucx {

OpTask bruck_all_gather(Operation& op, const std::byte* input, std::byte* output,
                        std::size_t block_bytes) {
  const int n = op.size();
  const int r = op.rank();
  const auto un = static_cast<std::size_t>(n);
  ScratchBuffer rotated = op.scratch(un * block_bytes);
  std::memcpy(rotated.data(), input, block_bytes);

  std::uint64_t round = 0;
  for (int d = 1; d < n; d *= 2, ++round) {
    const auto blocks = static_cast<std::size_t>(std::min(d, n - d));
    Transfer* out = op.send(ring_index(r - d, n), rotated.data(), blocks * block_bytes, round);
    Transfer* in =
        op.recv(ring_index(r + d, n), rotated.data() + static_cast<std::size_t>(d) * block_bytes,
                blocks * block_bytes, round);
    co_await op.all(out, in);
  }
  // Position i holds rank (r + i)'s block.
  for (std::size_t i = 0; i < un; ++i) {
    const auto owner = static_cast<std::size_t>(ring_index(static_cast<long>(r + i), n));
    std::memcpy(output + owner * block_bytes, rotated.data() + i * block_bytes, block_bytes);
  }
}

}  // namespace trellis::ucx
