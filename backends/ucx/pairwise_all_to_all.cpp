// all_to_all and all_to_all_v: pairwise exchange.
//
// At step s (1..n-1) rank r sends its block for rank r+s and receives rank r-s's block for it.
// Every rank talks to one partner in each direction per step, so no rank is swamped by n-1
// senders at once; `chunks_in_flight` steps are kept going together to hide latency. The rank's
// own block is copied locally. all_to_all's blocks are equal; all_to_all_v's have a size per peer,
// and an empty block is still sent (an empty message): the receiver learns from its length that
// the sender agreed, and a missing one is a mismatch the timeout names.
//
// In place (input == output, all_to_all only), a block would be overwritten before it was sent,
// so the input is first copied to scratch; the rank's own block is already where it belongs.
//
// Slot of step s: s.
#include <cstring>
#include <vector>

#include "algorithms.h"
#include "operation.h"
#include "partition.h"

namespace trellis::ucx {

OpTask pairwise_all_to_all_v(Operation& op, const std::byte* input, std::byte* output,
                             std::vector<ByteBlock> send, std::vector<ByteBlock> recv) {
  const int n = op.size();
  const int r = op.rank();
  ScratchBuffer copy;
  // In place only when the buffers are one (two empty tensors both have no data: not in place).
  if (input == output && input != nullptr) {
    const std::size_t input_bytes = send.back().offset + send.back().bytes;
    copy = op.scratch(input_bytes);
    std::memcpy(copy.data(), input, input_bytes);
    input = copy.data();
  } else if (send[r].bytes > 0) {
    std::memcpy(output + recv[r].offset, input + send[r].offset, send[r].bytes);
  }

  const int window = std::max(1, op.options().chunks_in_flight);
  std::vector<Transfer*> in_flight;
  for (int s = 1; s < n; ++s) {
    const int to = ring_index(r + s, n);
    const int from = ring_index(r - s, n);
    in_flight.push_back(
        op.send(to, input + send[to].offset, send[to].bytes, static_cast<std::uint64_t>(s)));
    in_flight.push_back(
        op.recv(from, output + recv[from].offset, recv[from].bytes, static_cast<std::uint64_t>(s)));
    if (s % window == 0) {
      co_await op.all(in_flight);
      in_flight.clear();
    }
  }
  co_await op.drain();
}

OpTask pairwise_all_to_all(Operation& op, const std::byte* input, std::byte* output,
                           std::size_t block_bytes) {
  std::vector<ByteBlock> blocks(static_cast<std::size_t>(op.size()));
  for (std::size_t b = 0; b < blocks.size(); ++b) blocks[b] = {b * block_bytes, block_bytes};
  return pairwise_all_to_all_v(op, input, output, blocks, blocks);
}

}  // namespace trellis::ucx
