// Copying the shard of a parameter out of (or into) the whole parameter, both row-major.
// A shard is the box [offset, offset + local shape) of the global shape; this is how llm.c
// checkpoints, Trellis checkpoints and initialisation reach any layout.
#pragma once

#include "trellis/tensor.h"

namespace trellis {

// Calls visit(global_flat_index, local_flat_index, run_length) for each contiguous run of the
// box (runs along the last dimension), in local order.
template <class Visit>
void for_each_box_run(const Shape& global, const Shape& offset, const Shape& local, Visit&& visit) {
  const int rank = global.rank();
  if (rank == 0) {
    visit(std::int64_t{0}, std::int64_t{0}, std::int64_t{1});
    return;
  }
  if (local.numel() == 0) return;
  // Strides of the global array.
  std::int64_t strides[Shape::kMaxRank];
  std::int64_t stride = 1;
  for (int d = rank - 1; d >= 0; --d) {
    strides[d] = stride;
    stride *= global[d];
  }
  const std::int64_t run = local[rank - 1];
  std::int64_t index[Shape::kMaxRank] = {};  // position in the local box, last dim fixed at 0
  std::int64_t local_flat = 0;
  while (true) {
    std::int64_t global_flat = 0;
    for (int d = 0; d < rank; ++d) global_flat += (offset[d] + index[d]) * strides[d];
    visit(global_flat, local_flat, run);
    local_flat += run;
    int d = rank - 2;
    while (d >= 0) {
      if (++index[d] < local[d]) break;
      index[d] = 0;
      --d;
    }
    if (d < 0) return;
  }
}

// Checks that the box lies inside the global shape; throws Error naming `what` otherwise.
void check_box(const Shape& global, const Shape& offset, const Shape& local,
               const std::string& what);

}  // namespace trellis
