// Elementwise reductions: the arithmetic of all_reduce, reduce_scatter and reduce.
//
// These loops run on every received chunk of a large all_reduce, so they must keep up with the
// transport: the file is compiled with -O3 (and -march=native with TRELLIS_NATIVE), the loops
// are written so the compiler vectorises them, and they are called on chunks sized to stay in
// cache between the copy that received them and the reduction.
#pragma once

#include <cstddef>

#include "trellis/comm.h"
#include "trellis/tensor.h"

namespace trellis::ucx {

// dst[i] = a[i] op b[i] for `count` elements of `dtype` (f32 or i32). avg combines as sum; the
// division is divide_by()'s, once, at the end. dst may be a or b (not a partial overlap).
// The order of a and b is kept for every op, so each rank computes bitwise the same result
// from the same inputs.
void combine(DType dtype, ReduceOp op, void* dst, const void* a, const void* b,
             std::size_t count) noexcept;

// data[i] /= divisor, for f32 (avg).
void divide_by(void* data, std::size_t count, int divisor) noexcept;

}  // namespace trellis::ucx
