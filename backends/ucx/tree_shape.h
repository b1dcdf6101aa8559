// Trees rooted at any rank, for broadcast and reduce.
//
// Ranks are renumbered relative to the root (v = rank - root mod n) so that the tree for root 0
// serves every root.
//   binomial: v's parent is v with its lowest set bit cleared; its children are v + m for each
//             power of two m below v's lowest set bit (any m for the root), largest subtree
//             first. ceil(log2 n) levels.
//   chain:    v's parent is v - 1, its child v + 1. n - 1 levels, but every rank sends the
//             message only once, which is what a pipelined broadcast of a large message wants.
#pragma once

#include <vector>

#include "algorithms.h"
#include "partition.h"

namespace trellis::ucx {

struct TreeLinks {
  int parent = -1;            // group rank, -1 at the root
  std::vector<int> children;  // group ranks, in the order to serve them
};

inline TreeLinks tree_links(TreeShape shape, int rank, int size, int root) {
  TreeLinks links;
  const int v = ring_index(static_cast<long>(rank) - root, size);
  auto real = [&](int relative) { return ring_index(static_cast<long>(relative) + root, size); };
  if (shape == TreeShape::chain) {
    if (v > 0) links.parent = real(v - 1);
    if (v + 1 < size) links.children.push_back(real(v + 1));
    return links;
  }
  int low = 1;  // v's lowest set bit, or the first power of two >= size for the root
  while (low < size && (v & low) == 0) low <<= 1;
  if (v > 0) links.parent = real(v - low);
  for (int m = low >> 1; m > 0; m >>= 1) {
    if (v + m < size) links.children.push_back(real(v + m));
  }
  return links;
}

}  // namespace trellis::ucx
