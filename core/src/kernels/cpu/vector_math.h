// exp, and the parts of tanh that GELU needs, written so the compiler can vectorise the loops that
// call them (the C library's expf/tanhf are scalar calls, which made GELU alone a third of a
// training step). exp follows Cephes' single-precision algorithm: range reduction to
// [-ln2/2, ln2/2] and a degree-6 polynomial, within a few float ulps of libm (a unit test checks).
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>

namespace trellis::cpu {

inline float vexp(float x) {
  constexpr float kMax = 88.3762626647949f;
  constexpr float kMin = -87.3365447504019f;  // below this exp underflows to 0 (denormals flushed)
  x = x > kMax ? kMax : x;
  const bool underflow = x < kMin;
  x = x < kMin ? kMin : x;
  // n = round(x / ln 2); r = x - n ln 2, with ln 2 in two parts for accuracy.
  // Rounding by adding and removing 1.5 * 2^23 (the float sum keeps no fraction): unlike floorf
  // it compiles to plain vector arithmetic.
  constexpr float kRound = 12582912.0f;
  float n = (x * 1.44269504088896341f + kRound) - kRound;
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float z = r * r;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  float y = p * z + r + 1.0f;
  // y * 2^n, building 2^n from its exponent bits.
  std::int32_t bits = (static_cast<std::int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  return underflow ? 0.0f : y * scale;
}

// What GELU needs from tanh(u): 1 + tanh(u) and 1 - tanh(u)^2, from e = exp(2u) as 2e/(e+1) and
// 4e/(e+1)^2. Both are accurate in absolute terms everywhere, including the tails where tanh is
// within an ulp of -1 or 1 and 1 + tanh or 1 - tanh^2 computed from a rounded tanh would be
// noise. (tanh itself, (e-1)/(e+1), would lose relative accuracy near 0; GELU never needs it.)
struct TanhParts {
  float one_plus;  // 1 + tanh(u)
  float sech2;     // 1 - tanh(u)^2
};

inline TanhParts vtanh_parts(float u) {
  // Beyond |u| = 40 both parts are below float resolution of their limits (0 or 2, and 0).
  u = u > 40.0f ? 40.0f : (u < -40.0f ? -40.0f : u);
  float e = vexp(2.0f * u);
  float r = 1.0f / (e + 1.0f);
  float two_e_r = 2.0f * e * r;
  return {two_e_r, (2.0f * two_e_r) * r};
}

// The largest of x[0..n), -inf for n = 0. Sixteen independent lanes: a single running max is a
// chain of dependent compares that the compiler keeps scalar (max is not associative for NaN,
// so it may not reorder it) — ten times slower on a row of logits.
inline float vmax(const float* x, int n) {
  constexpr int kLanes = 16;
  float lanes[kLanes];
  for (int l = 0; l < kLanes; ++l) lanes[l] = -std::numeric_limits<float>::infinity();
  int j = 0;
  for (; j + kLanes <= n; j += kLanes) {
#pragma omp simd
    for (int l = 0; l < kLanes; ++l) lanes[l] = x[j + l] > lanes[l] ? x[j + l] : lanes[l];
  }
  float m = -std::numeric_limits<float>::infinity();
  for (; j < n; ++j) m = x[j] > m ? x[j] : m;
  for (int l = 0; l < kLanes; ++l) m = lanes[l] > m ? lanes[l] : m;
  return m;
}

}  // namespace trellis::cpu
