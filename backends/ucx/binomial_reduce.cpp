// reduce: a binomial tree towards the root (tree_shape.h), pipelined by chunks.
//
// For each chunk a rank receives its children's partial results, combines them with its own
// input in a fixed order (its input, then the children as tree_links lists them), and sends the
// result to its parent; chunk j+1 travels while chunk j is combined. Leaves send their input as
// it is. The root writes the output; other ranks keep their partial results in scratch.
//
// Slot of chunk j: j (each child sends each chunk once).
#include <algorithm>
#include <vector>

#include "algorithms.h"
#include "operation.h"
#include "partition.h"
#include "tree_shape.h"
#include "trellis/reduce.h"

namespace trellis::ucx {

OpTask binomial_reduce(Operation& op, const std::byte* input, std::byte* output, std::size_t count,
                       ReduceSpec spec, int root) {
  const TreeLinks links = tree_links(TreeShape::binomial, op.rank(), op.size(), root);
  const std::size_t esize = spec.element_bytes;
  const std::size_t k = chunk_count(count, esize, op.options().chunk_bytes);
  const std::size_t max_chunk = (count + k - 1) / k;
  const std::size_t children = links.children.size();
  auto chunk_at = [&](const std::byte* base, std::size_t j) {
    return base + part_begin(count, k, j) * esize;
  };

  if (children == 0) {  // a leaf: its input is its partial result
    for (std::size_t j = 0; j < k; ++j) {
      op.send(links.parent, chunk_at(input, j), part_size(count, k, j) * esize, j);
    }
    co_await op.drain();
    co_return;
  }

  const bool is_root = links.parent < 0;
  ScratchBuffer partial_buffer;
  if (!is_root) partial_buffer = op.scratch(count * esize);
  std::byte* partial = is_root ? output : partial_buffer.data();
  const std::size_t window = std::min<std::size_t>(k, op.options().chunks_in_flight);
  const std::size_t slot_bytes = max_chunk * esize;
  ScratchBuffer slots = op.scratch(window * children * slot_bytes);
  auto slot = [&](std::size_t j, std::size_t child) {
    return slots.data() + ((j % window) * children + child) * slot_bytes;
  };

  std::vector<std::vector<Transfer*>> recvs(k);
  std::size_t posted = 0, done = 0;
  while (done < k) {
    bool moved = false;
    while (posted < k && posted < done + window) {
      for (std::size_t c = 0; c < children; ++c) {
        recvs[posted].push_back(op.recv(links.children[c], slot(posted, c),
                                        part_size(count, k, posted) * esize, posted));
      }
      ++posted;
      moved = true;
    }
    while (done < posted) {
      const auto& arrived = recvs[done];
      if (!std::all_of(arrived.begin(), arrived.end(), [](Transfer* t) { return t->done(); }))
        break;
      const std::size_t len = part_size(count, k, done);
      std::byte* dst = partial + part_begin(count, k, done) * esize;
      reduce_elements(spec.op, spec.dtype, dst, chunk_at(input, done), slot(done, 0),
                      static_cast<std::int64_t>(len));
      for (std::size_t c = 1; c < children; ++c) {
        reduce_elements(spec.op, spec.dtype, dst, dst, slot(done, c),
                        static_cast<std::int64_t>(len));
      }
      if (is_root) {
        if (spec.op == ReduceOp::avg)
          divide_elements(reinterpret_cast<float*>(dst), static_cast<std::int64_t>(len), op.size());
      } else {
        op.send(links.parent, dst, len * esize, done);
      }
      ++done;
      moved = true;
    }
    if (!moved) co_await op.any();
  }
  co_await op.drain();
}

}  // namespace trellis::ucx
