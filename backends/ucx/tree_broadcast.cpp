// broadcast: the message flows down a tree (tree_shape.h), chunk by chunk.
//
// Each rank receives chunk j from its parent and forwards it to its children as soon as it has
// arrived, while later chunks are still on their way: a large message streams down the tree
// instead of waiting at each level. The binomial tree has ceil(log2 n) levels; the chain has
// n-1 but each rank sends every byte once, which suits large messages. A message of one chunk is
// the plain (unpipelined) tree broadcast.
//
// Slot of chunk j: j (a rank receives each chunk once, from its parent).
#include <vector>

#include "algorithms.h"
#include "operation.h"
#include "partition.h"
#include "tree_shape.h"

namespace trellis::ucx {

OpTask tree_broadcast(Operation& op, std::byte* buffer, std::size_t bytes, int root,
                      TreeShape shape) {
  const TreeLinks links = tree_links(shape, op.rank(), op.size(), root);
  const std::size_t k = chunk_count(bytes, 1, op.options().chunk_bytes);
  auto forward = [&](std::size_t j) {
    for (int child : links.children) {
      op.send(child, buffer + part_begin(bytes, k, j), part_size(bytes, k, j), j);
    }
  };
  if (links.parent < 0) {
    for (std::size_t j = 0; j < k; ++j) forward(j);
    co_await op.drain();
    co_return;
  }
  const std::size_t window = std::min<std::size_t>(k, op.options().chunks_in_flight);
  std::vector<Transfer*> recvs(k, nullptr);
  std::size_t posted = 0, done = 0;
  while (done < k) {
    bool moved = false;
    while (posted < k && posted < done + window) {
      recvs[posted] = op.recv(links.parent, buffer + part_begin(bytes, k, posted),
                              part_size(bytes, k, posted), posted);
      ++posted;
      moved = true;
    }
    while (done < posted && recvs[done]->done()) {
      forward(done);
      ++done;
      moved = true;
    }
    if (!moved) co_await op.any();
  }
  co_await op.drain();
}

}  // namespace trellis::ucx
