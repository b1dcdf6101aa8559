#include "head_groups.h"

namespace trellis::context {

namespace {

// Copies the columns of head group j, part by part, between whole's rows [N, parts C] and chunk
// j's rows [N, parts w] of groups (w = C/c), in the direction `to_groups` says.
void move_head_groups(Kernels& kernels, const Tensor& whole, int parts, const Tensor& groups,
                      bool to_groups) {
  const std::int64_t c = groups.size(0);
  const std::int64_t rows = whole.size(0) * whole.size(1);
  const std::int64_t C = whole.size(2) / parts, w = C / c;
  const Tensor whole_rows = whole.view({rows, parts * C});
  for (std::int64_t j = 0; j < c; ++j) {
    const Tensor group_rows = groups.narrow(0, j, 1).view({rows, parts * w});
    for (int p = 0; p < parts; ++p) {
      if (to_groups) {
        kernels.copy_columns(whole_rows, p * C + j * w, group_rows, p * w, w);
      } else {
        kernels.copy_columns(group_rows, p * w, whole_rows, p * C + j * w, w);
      }
    }
  }
}

}  // namespace

void split_head_groups(Kernels& kernels, const Tensor& whole, int parts, const Tensor& groups) {
  move_head_groups(kernels, whole, parts, groups, true);
}

void join_head_groups(Kernels& kernels, const Tensor& groups, int parts, const Tensor& whole) {
  move_head_groups(kernels, whole, parts, groups, false);
}

}  // namespace trellis::context
