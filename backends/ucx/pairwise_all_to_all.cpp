// all_to_all: pairwise exchange.
//
// At step s (1..n-1) rank r sends its block for rank r+s and receives rank r-s's block for it.
// Every rank talks to one partner in each direction per step, so no rank is swamped by n-1
// senders at once; `chunks_in_flight` steps are kept going together to hide latency. The rank's
// own block is copied locally.
//
// In place (input == output), a block would be overwritten before it was sent, so the input is
// first copied to scratch.
//
// Slot of step s: s.
#include <cstring>
#include <vector>

#include "algorithms.h"
#include "operation.h"
#include "partition.h"

namespace trellis::ucx {

OpTask pairwise_all_to_all(Operation& op, const std::byte* input, std::byte* output,
                           std::size_t block_bytes) {
  const int n = op.size();
  const int r = op.rank();
  auto block = [block_bytes](auto* base, int b) {
    return base + static_cast<std::size_t>(b) * block_bytes;
  };
  ScratchBuffer copy;
  if (input == output) {
    copy = op.scratch(static_cast<std::size_t>(n) * block_bytes);
    std::memcpy(copy.data(), input, static_cast<std::size_t>(n) * block_bytes);
    input = copy.data();
  } else {
    std::memcpy(block(output, r), block(input, r), block_bytes);
  }

  const int window = std::max(1, op.options().chunks_in_flight);
  std::vector<Transfer*> in_flight;
  for (int s = 1; s < n; ++s) {
    const int to = ring_index(r + s, n);
    const int from = ring_index(r - s, n);
    in_flight.push_back(op.send(to, block(input, to), block_bytes, static_cast<std::uint64_t>(s)));
    in_flight.push_back(
        op.recv(from, block(output, from), block_bytes, static_cast<std::uint64_t>(s)));
    if (s % window == 0) {
      co_await op.all(in_flight);
      in_flight.clear();
    }
  }
  co_await op.drain();
}

}  // namespace trellis::ucx
