#include "reduction.h"

#include <cstdint>

namespace trellis::ucx {

namespace {

// One loop per (type, op), with the operation inlined: each compiles to packed vector
// instructions (vaddps, vmaxps, vpmaxsd, ...). dst may alias a or b exactly, so no __restrict;
// GCC checks for overlap once and runs the vector loop.
template <class T, class Op>
void combine_loop(T* dst, const T* a, const T* b, std::size_t count, Op op) noexcept {
  for (std::size_t i = 0; i < count; ++i) dst[i] = op(a[i], b[i]);
}

template <class T>
void combine_typed(ReduceOp op, void* dst, const void* a, const void* b,
                   std::size_t count) noexcept {
  auto* d = static_cast<T*>(dst);
  const auto* x = static_cast<const T*>(a);
  const auto* y = static_cast<const T*>(b);
  switch (op) {
    case ReduceOp::sum:
    case ReduceOp::avg:
      combine_loop(d, x, y, count, [](T u, T v) { return u + v; });
      break;
    case ReduceOp::max:
      combine_loop(d, x, y, count, [](T u, T v) { return u > v ? u : v; });
      break;
    case ReduceOp::min:
      combine_loop(d, x, y, count, [](T u, T v) { return u < v ? u : v; });
      break;
  }
}

}  // namespace

void combine(DType dtype, ReduceOp op, void* dst, const void* a, const void* b,
             std::size_t count) noexcept {
  if (dtype == DType::f32) {
    combine_typed<float>(op, dst, a, b, count);
  } else if (dtype == DType::i32) {
    combine_typed<std::int32_t>(op, dst, a, b, count);
  }
}

void divide_by(void* data, std::size_t count, int divisor) noexcept {
  auto* d = static_cast<float*>(data);
  const float n = static_cast<float>(divisor);
  for (std::size_t i = 0; i < count; ++i) d[i] /= n;
}

}  // namespace trellis::ucx
