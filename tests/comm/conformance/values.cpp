#include "values.h"

#include <algorithm>

namespace trellis::conformance {

namespace {

// A prime period longer than any count the suite uses below 1 MiB, so neighbouring elements
// and chunks differ.
constexpr std::int64_t kPeriod = 262139;
// i32 values are offset above 2^24 (16777216).
constexpr double kIntegerOffset = 20000000;

}  // namespace

double contribution(DType dtype, int rank, std::int64_t index) {
  const std::int64_t spread = (index * 37 + std::int64_t{rank} * 1013) % kPeriod - kPeriod / 2;
  return dtype == DType::i32 ? kIntegerOffset + static_cast<double>(spread)
                             : static_cast<double>(spread);
}

double reduction(ReduceOp op, DType dtype, int size, std::int64_t index) {
  double sum = 0;
  double high = contribution(dtype, 0, index);
  double low = high;
  for (int rank = 0; rank < size; ++rank) {
    const double value = contribution(dtype, rank, index);
    sum += value;
    high = std::max(high, value);
    low = std::min(low, value);
  }
  switch (op) {
    case ReduceOp::sum:
      return sum;
    case ReduceOp::avg:
      return sum / size;
    case ReduceOp::max:
      return high;
    case ReduceOp::min:
      return low;
  }
  return 0;
}

double message_value(DType dtype, int from, int to, std::int64_t index) {
  const double base = static_cast<double>(from) * 10007 + to * 101 + index % 4093;
  return dtype == DType::i32 ? kIntegerOffset + base : base;
}

}  // namespace trellis::conformance
