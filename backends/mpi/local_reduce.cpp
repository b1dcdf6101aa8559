#include "local_reduce.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

namespace trellis::mpi {

namespace {

// max and min that give the same bits whichever operand comes first, so both ranks of a pair
// agree: NaN wins (as a quiet NaN), and of +0 and -0 the max is +0 and the min -0. std::max
// returns its first operand on ties and for NaN, which would differ between the two ranks.
template <class T>
T symmetric_max(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<T>::quiet_NaN();
    if (a == b) return std::signbit(a) ? b : a;
  }
  return a < b ? b : a;
}

template <class T>
T symmetric_min(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<T>::quiet_NaN();
    if (a == b) return std::signbit(a) ? a : b;
  }
  return b < a ? b : a;
}

template <class T, class Op>
void combine_as(void* result, const void* mine, const void* theirs, std::int64_t count, Op op) {
  T* out = static_cast<T*>(result);
  const T* a = static_cast<const T*>(mine);
  const T* b = static_cast<const T*>(theirs);
  for (std::int64_t i = 0; i < count; ++i) out[i] = op(a[i], b[i]);
}

template <class T>
void combine_typed(ReduceOp op, void* result, const void* mine, const void* theirs,
                   std::int64_t count) {
  switch (op) {
    case ReduceOp::sum:
    case ReduceOp::avg:
      combine_as<T>(result, mine, theirs, count, [](T a, T b) { return a + b; });
      return;
    case ReduceOp::max:
      combine_as<T>(result, mine, theirs, count, [](T a, T b) { return symmetric_max(a, b); });
      return;
    case ReduceOp::min:
      combine_as<T>(result, mine, theirs, count, [](T a, T b) { return symmetric_min(a, b); });
      return;
  }
}

}  // namespace

void combine(ReduceOp op, DType dtype, void* result, const void* mine, const void* theirs,
             std::int64_t count) noexcept {
  if (dtype == DType::i32) {
    combine_typed<std::int32_t>(op, result, mine, theirs, count);
  } else {
    combine_typed<float>(op, result, mine, theirs, count);
  }
}

void divide(float* data, std::int64_t count, int divisor) noexcept {
  const float d = static_cast<float>(divisor);
  for (std::int64_t i = 0; i < count; ++i) data[i] /= d;
}

}  // namespace trellis::mpi
