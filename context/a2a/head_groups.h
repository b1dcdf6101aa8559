// The heads of a rank's tokens dealt out to the context group: head group j (heads
// [j NH/c, (j+1) NH/c)) of a [B, Tl, parts C] tensor (parts 3 for qkv, whose queries, keys and
// values each hold the heads side by side; 1 for the attention's output) is chunk j of a
// [c, B, Tl, parts C/c] exchange buffer, its parts side by side again; and back.
#pragma once

#include "trellis/kernels.h"

namespace trellis::context {

// groups[j] = the columns of head group j of each part of whole.
void split_head_groups(Kernels& kernels, const Tensor& whole, int parts, const Tensor& groups);
// whole = the head groups of groups, each put back at its columns of each part.
void join_head_groups(Kernels& kernels, const Tensor& groups, int parts, const Tensor& whole);

}  // namespace trellis::context
