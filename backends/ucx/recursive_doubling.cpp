// all_reduce for small messages: recursive doubling.
//
// With p the largest power of two <= n and e = n - p extra ranks: ranks 0..2e-1 pair up, the
// even one of each pair hands its data to the odd one and sits out (fold). The p remaining ranks
// exchange their whole message with the rank whose (renumbered) index differs in bit i, for
// i = 0..log2(p)-1, combining after each exchange; then the folded ranks get the result back
// (unfold). log2(p) + 2 message latencies, against the ring's 2(n-1): the right choice while
// latency, not bandwidth, is what costs.
//
// Both partners combine (lower index's data) op (higher index's data), so every rank computes
// bitwise the same result.
//
// Slots: 0 fold, 1 + i exchange i, 63 unfold.
#include <cstring>

#include "algorithms.h"
#include "operation.h"
#include "trellis/reduce.h"

namespace trellis::ucx {

OpTask all_reduce_recursive_doubling(Operation& op, const std::byte* input, std::byte* output,
                                     std::size_t count, ReduceSpec spec) {
  const int n = op.size();
  const int r = op.rank();
  const std::size_t bytes = count * spec.element_bytes;
  if (input != output) std::memcpy(output, input, bytes);
  ScratchBuffer incoming = op.scratch(bytes);

  int p = 1;
  while (p * 2 <= n) p *= 2;
  const int extra = n - p;
  constexpr std::uint64_t kFoldSlot = 0, kUnfoldSlot = 63;

  // Fold: index is this rank's number among the p that carry on, or -1 for one that sits out.
  int index;
  if (r < 2 * extra) {
    if (r % 2 == 0) {
      co_await op.all(op.send(r + 1, output, bytes, kFoldSlot));
      co_await op.all(op.recv(r + 1, output, bytes, kUnfoldSlot));
      co_return;
    }
    co_await op.all(op.recv(r - 1, incoming.data(), bytes, kFoldSlot));
    reduce_elements(spec.op, spec.dtype, output, incoming.data(), output,
                    static_cast<std::int64_t>(count));
    index = r / 2;
  } else {
    index = r - extra;
  }
  auto rank_of = [extra](int i) { return i < extra ? 2 * i + 1 : i + extra; };

  std::uint64_t round = 0;
  for (int mask = 1; mask < p; mask <<= 1, ++round) {
    const int partner_index = index ^ mask;
    const int partner = rank_of(partner_index);
    // The send reads `output` and the combine below overwrites it: wait for both.
    Transfer* out = op.send(partner, output, bytes, 1 + round);
    Transfer* in = op.recv(partner, incoming.data(), bytes, 1 + round);
    co_await op.all(out, in);
    if (index < partner_index) {
      reduce_elements(spec.op, spec.dtype, output, output, incoming.data(),
                      static_cast<std::int64_t>(count));
    } else {
      reduce_elements(spec.op, spec.dtype, output, incoming.data(), output,
                      static_cast<std::int64_t>(count));
    }
  }
  if (spec.op == ReduceOp::avg)
    divide_elements(reinterpret_cast<float*>(output), static_cast<std::int64_t>(count), n);
  if (r < 2 * extra) co_await op.all(op.send(r - 1, output, bytes, kUnfoldSlot));
}

}  // namespace trellis::ucx
