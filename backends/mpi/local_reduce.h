// The arithmetic the backend does itself: combining two buffers for the recursive-doubling
// all_reduce, and the division that turns a sum into an average.
#pragma once

#include <cstdint>

#include "trellis/comm.h"
#include "trellis/tensor.h"

namespace trellis::mpi {

// result[i] = mine[i] op theirs[i] for `count` elements of `dtype` (f32 or i32); avg combines as
// sum. `result` may be `mine`. Both ranks of a pair compute mine op theirs with the operands
// swapped and gets the same bits: IEEE addition is commutative, and max and min are written to be
// (NaN and signed zeros included).
void combine(ReduceOp op, DType dtype, void* result, const void* mine, const void* theirs,
             std::int64_t count) noexcept;

// data[i] /= divisor, for the f32 average (a division, not a multiplication by 1/divisor, so the
// result is the correctly rounded quotient).
void divide(float* data, std::int64_t count, int divisor) noexcept;

}  // namespace trellis::mpi
