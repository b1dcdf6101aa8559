// The values the conformance suite sends, and what every rank can compute they must become.
//
// Every value is an integer. In f32 they stay below 2^18 in magnitude, so sums over up to 32
// ranks are exact in f32 whatever order a backend adds them in, and max/min are exact anyway:
// only avg (a division) needs a tolerance. In i32 they sit above 2^24, where f32 has no exact
// integers, so a backend that moved or reduced integers through floats would be caught. Each
// value depends on the rank and on the element index with a long period, so a chunk delivered
// to the wrong place, or one rank's data taken for another's, shows as wrong values.
#pragma once

#include <cstdint>

#include "trellis/comm.h"
#include "trellis/tensor.h"

namespace trellis::conformance {

// Element `index` of what `rank` contributes.
double contribution(DType dtype, int rank, std::int64_t index);

// `op` over ranks 0..size-1 of contribution(dtype, rank, index). avg is the exact quotient; the
// comparison allows for its rounding (tensor_check.h).
double reduction(ReduceOp op, DType dtype, int size, std::int64_t index);

// Element `index` of the chunk rank `from` sends rank `to` (all_to_all, point-to-point).
double message_value(DType dtype, int from, int to, std::int64_t index);

// What buffers hold before an operation writes them, to show which elements it wrote.
constexpr double kUntouched = -7;

}  // namespace trellis::conformance
