#include "tokenizer/bpe_merge_table.h"

#include <algorithm>
#include <functional>
#include <queue>

namespace trellis {

namespace {

// A pair of adjacent tokens of the word waiting to be merged: the node it starts at and the ids
// it had when found (a later merge may change either side: then the entry is stale).
struct Candidate {
  std::int32_t rank;
  std::int32_t node;
  std::int32_t left;
  std::int32_t right;
  // Lowest rank first; the same rank left to right.
  bool operator>(const Candidate& other) const {
    return rank != other.rank ? rank > other.rank : node > other.node;
  }
};

}  // namespace

BpeMergeTable::BpeMergeTable(const std::vector<BpeMerge>& merges) {
  ranked_.reserve(merges.size());
  for (std::size_t rank = 0; rank < merges.size(); ++rank) {
    const BpeMerge& m = merges[rank];
    ranked_.emplace(bpe_pair_key(m.left, m.right),
                    Ranked{static_cast<std::int32_t>(rank), m.merged});
  }
}

const BpeMergeTable::Ranked* BpeMergeTable::find(std::int32_t left, std::int32_t right) const {
  const auto it = ranked_.find(bpe_pair_key(left, right));
  return it == ranked_.end() ? nullptr : &it->second;
}

void BpeMergeTable::merge(std::vector<std::int32_t>& word) const {
  const auto n = static_cast<std::int32_t>(word.size());
  if (n < 2) return;
  // The word as a linked list over its original positions: a merge keeps the left node (its id
  // becomes the merged token's) and unlinks the right one (id -1). Nodes stay in text order.
  std::vector<std::int32_t>& id = word;
  std::vector<std::int32_t> next(static_cast<std::size_t>(n)), prev(static_cast<std::size_t>(n));
  for (std::int32_t i = 0; i < n; ++i) {
    next[i] = i + 1;
    prev[i] = i - 1;
  }
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> heap;
  auto offer = [&](std::int32_t node) {
    if (node < 0 || next[node] >= n) return;
    if (const Ranked* r = find(id[node], id[next[node]])) {
      heap.push({r->rank, node, id[node], id[next[node]]});
    }
  };
  for (std::int32_t i = 0; i + 1 < n; ++i) offer(i);

  std::vector<std::int32_t> merged_nodes;
  while (!heap.empty()) {
    // One round: every occurrence of the lowest-ranked pair, left to right. An occurrence whose
    // left token was just merged as the right side of the one before it is stale and skipped,
    // which is encoder.py's "no overlap".
    const std::int32_t rank = heap.top().rank;
    merged_nodes.clear();
    while (!heap.empty() && heap.top().rank == rank) {
      const Candidate c = heap.top();
      heap.pop();
      const std::int32_t right = next[c.node];
      if (id[c.node] != c.left || right >= n || id[right] != c.right) continue;
      id[c.node] = find(c.left, c.right)->merged;
      id[right] = -1;
      next[c.node] = next[right];
      if (next[right] < n) prev[next[right]] = c.node;
      merged_nodes.push_back(c.node);
    }
    // The pairs the round made, for the rounds after it.
    for (std::int32_t node : merged_nodes) {
      offer(prev[node]);
      offer(node);
    }
  }
  std::erase(word, -1);
}

}  // namespace trellis
