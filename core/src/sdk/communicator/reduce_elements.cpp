#include <bit>
#include <cstdint>
#include <limits>

#include "trellis/reduce.h"

namespace trellis {

namespace {

// max and min of f32 written as selects and bit operations, with no branch on the data, so the
// loops below vectorise. Equal operands are +0 and -0 or the same value: their bits ANDed give
// +0 for max and ORed give -0 for min, and the value itself otherwise. NaN in either operand
// gives the quiet NaN.
inline float nan_max(float a, float b) noexcept {
  const float larger = a > b ? a
                             : (b > a ? b
                                      : std::bit_cast<float>(std::bit_cast<std::uint32_t>(a) &
                                                             std::bit_cast<std::uint32_t>(b)));
  return (a != a || b != b) ? std::numeric_limits<float>::quiet_NaN() : larger;
}

inline float nan_min(float a, float b) noexcept {
  const float smaller = a < b ? a
                              : (b < a ? b
                                       : std::bit_cast<float>(std::bit_cast<std::uint32_t>(a) |
                                                              std::bit_cast<std::uint32_t>(b)));
  return (a != a || b != b) ? std::numeric_limits<float>::quiet_NaN() : smaller;
}

// One loop per (type, op) with the operation inlined. result may alias a or b exactly, so no
// __restrict; the compiler checks for overlap once and runs the vector loop.
template <class T, class Op>
void loop(void* result, const void* a, const void* b, std::int64_t count, Op op) noexcept {
  T* out = static_cast<T*>(result);
  const T* x = static_cast<const T*>(a);
  const T* y = static_cast<const T*>(b);
  for (std::int64_t i = 0; i < count; ++i) out[i] = op(x[i], y[i]);
}

}  // namespace

void reduce_elements(ReduceOp op, DType dtype, void* result, const void* a, const void* b,
                     std::int64_t count) noexcept {
  if (dtype == DType::f32) {
    switch (op) {
      case ReduceOp::sum:
      case ReduceOp::avg:
        return loop<float>(result, a, b, count, [](float u, float v) { return u + v; });
      case ReduceOp::max:
        return loop<float>(result, a, b, count, nan_max);
      case ReduceOp::min:
        return loop<float>(result, a, b, count, nan_min);
    }
  } else if (dtype == DType::i32) {
    // Sums wrap: computed unsigned, where overflow is defined.
    switch (op) {
      case ReduceOp::sum:
      case ReduceOp::avg:
        return loop<std::int32_t>(result, a, b, count, [](std::int32_t u, std::int32_t v) {
          return static_cast<std::int32_t>(static_cast<std::uint32_t>(u) +
                                           static_cast<std::uint32_t>(v));
        });
      case ReduceOp::max:
        return loop<std::int32_t>(result, a, b, count,
                                  [](std::int32_t u, std::int32_t v) { return u < v ? v : u; });
      case ReduceOp::min:
        return loop<std::int32_t>(result, a, b, count,
                                  [](std::int32_t u, std::int32_t v) { return v < u ? v : u; });
    }
  }
}

void divide_elements(float* data, std::int64_t count, int divisor) noexcept {
  const float d = static_cast<float>(divisor);
  for (std::int64_t i = 0; i < count; ++i) data[i] /= d;
}

}  // namespace trellis
