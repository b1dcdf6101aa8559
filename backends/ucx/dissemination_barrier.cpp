// barrier: dissemination.
//
// In round i rank r signals rank r + 2^i and waits for rank r - 2^i. After ceil(log2 n) rounds
// every rank has heard, directly or through others, from every rank: none leaves before all
// have arrived. Messages are empty.
//
// Slot of round i: i.
#include "algorithms.h"
#include "operation.h"
#include "partition.h"

namespace trellis::ucx {

OpTask dissemination_barrier(Operation& op) {
  const int n = op.size();
  const int r = op.rank();
  std::byte nothing{};
  std::uint64_t round = 0;
  for (int d = 1; d < n; d *= 2, ++round) {
    Transfer* out = op.send(ring_index(r + d, n), &nothing, 0, round);
    Transfer* in = op.recv(ring_index(r - d, n), &nothing, 0, round);
    co_await op.all(out, in);
  }
}

}  // namespace trellis::ucx
