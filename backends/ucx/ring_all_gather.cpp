// all_gather for large messages: pipelined ring.
//
// At step s (0..n-2) rank r sends block r-s to r+1 and receives block r-s-1 from r-1, straight
// into the output. Blocks are cut into chunks; chunk j is forwarded (step s+1) as soon as it has
// arrived (step s), so the ring streams instead of moving whole blocks step by step. Each rank
// sends and receives (n-1)/n of the output: the bandwidth optimum.
//
// Slot of (step s, chunk j): s*k + j.
#include <cstring>
#include <vector>

#include "algorithms.h"
#include "operation.h"
#include "partition.h"

namespace trellis::ucx {

OpTask ring_all_gather(Operation& op, const std::byte* input, std::byte* output,
                       std::size_t block_bytes) {
  const int n = op.size();
  const int r = op.rank();
  std::byte* own = output + static_cast<std::size_t>(r) * block_bytes;

  const std::size_t k = chunk_count(block_bytes, 1, op.options().chunk_bytes);
  const auto steps = static_cast<std::size_t>(n - 1);
  const std::size_t units = steps * k;
  const std::size_t window = std::min<std::size_t>(units, op.options().chunks_in_flight);
  const int next = ring_index(r + 1, n);
  const int prev = ring_index(r - 1, n);
  auto chunk = [&](int block, std::size_t j) {
    return output + static_cast<std::size_t>(block) * block_bytes + part_begin(block_bytes, k, j);
  };
  auto received_block = [&](std::size_t s) { return ring_index(static_cast<long>(r) - s - 1, n); };

  // This rank's block leaves from the input, and is copied into the output only once its sends
  // and the first receives are posted: the copy overlaps the transfer instead of delaying it.
  for (std::size_t j = 0; j < k; ++j) {
    op.send(next, input + part_begin(block_bytes, k, j), part_size(block_bytes, k, j), j);
  }
  bool copied = input == own;
  std::vector<Transfer*> recvs(units, nullptr);
  std::size_t posted = 0, done = 0;
  while (done < units) {
    bool moved = false;
    while (posted < units && posted < done + window) {
      const std::size_t s = posted / k, j = posted % k;
      recvs[posted] =
          op.recv(prev, chunk(received_block(s), j), part_size(block_bytes, k, j), posted);
      ++posted;
      moved = true;
    }
    if (!copied) {
      std::memcpy(own, input, block_bytes);
      copied = true;
    }
    while (done < posted && recvs[done]->done()) {
      const std::size_t s = done / k, j = done % k;
      if (s + 1 < steps) {
        op.send(next, chunk(received_block(s), j), part_size(block_bytes, k, j), done + k);
      }
      ++done;
      moved = true;
    }
    if (!moved) co_await op.any();
  }
  co_await op.drain();
}

}  // namespace trellis::ucx
