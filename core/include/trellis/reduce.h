// Element-wise reduction of two buffers: the arithmetic of all_reduce, reduce_scatter and reduce
// for backends that reduce on the CPU.
//
// Every CPU backend combines with these functions, so what a user observes through a
// Communicator is the same whichever backend runs it:
//   sum, avg  a + b (IEEE single precision for f32; avg combines as a sum, and divide() turns the
//             total into the mean once at the end).
//   max, min  NaN propagates: if either operand is NaN, the result is NaN (a quiet NaN), as
//             torch.maximum does. Of +0 and -0, max is +0 and min is -0.
// Every op gives the same bits whichever operand comes first (IEEE addition is commutative, and
// max and min are written to be), so two ranks combining the same pair in opposite roles agree.
// i32 has no NaN; its sum wraps around as two's complement (what MPI and NCCL do).
#pragma once

#include <cstdint>

#include "trellis/comm.h"
#include "trellis/tensor.h"

namespace trellis {

// result[i] = a[i] op b[i] for `count` elements of `dtype` (f32 or i32; other dtypes are not
// reduced by any CPU backend and leave `result` alone). `result` may be `a` or `b` exactly, not
// a partial overlap.
void reduce_elements(ReduceOp op, DType dtype, void* result, const void* a, const void* b,
                     std::int64_t count) noexcept;

// data[i] /= divisor for the f32 average: a division, not a multiplication by 1/divisor, so each
// element is the correctly rounded quotient.
void divide_elements(float* data, std::int64_t count, int divisor) noexcept;

}  // namespace trellis
