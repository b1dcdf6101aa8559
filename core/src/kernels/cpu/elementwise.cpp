#include <omp.h>

#include <algorithm>

#include "kernels/cpu/cpu_ops.h"

namespace trellis::cpu {

float* Scratch::get(int thread, std::size_t floats) {
  if (thread >= static_cast<int>(buffers_.size())) {
    // Only grown outside parallel regions (reserve_threads); a thread beyond it is a bug.
    __builtin_trap();
  }
  auto& buffer = buffers_[thread];
  if (buffer.size() < floats) buffer.resize(floats);
  return buffer.data();
}

void Scratch::reserve_threads(int threads) {
  if (static_cast<int>(buffers_.size()) < threads) buffers_.resize(threads);
}

void fill(float* x, std::int64_t n, float value) {
#pragma omp parallel for simd schedule(static) if (n > 65536)
  for (std::int64_t i = 0; i < n; ++i) x[i] = value;
}

void add(const float* a, const float* b, float* out, std::int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > 32768)
  for (std::int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

void accumulate(float* dst, const float* src, std::int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > 32768)
  for (std::int64_t i = 0; i < n; ++i) dst[i] += src[i];
}

void scale(float* x, std::int64_t n, float factor) {
#pragma omp parallel for simd schedule(static) if (n > 65536)
  for (std::int64_t i = 0; i < n; ++i) x[i] *= factor;
}

double sum_squares(const float* x, std::int64_t n) {
  // Float partial sums over short blocks (vectorised, and short enough that float rounding stays
  // far below what the gradient norm needs), added up in double.
  constexpr std::int64_t kBlock = 1024;
  const std::int64_t blocks = (n + kBlock - 1) / kBlock;
  double total = 0.0;
#pragma omp parallel for reduction(+ : total) schedule(static) if (n > 262144)
  for (std::int64_t b = 0; b < blocks; ++b) {
    const float* p = x + b * kBlock;
    const std::int64_t len = std::min(kBlock, n - b * kBlock);
    float partial = 0.0f;
#pragma omp simd reduction(+ : partial)
    for (std::int64_t i = 0; i < len; ++i) partial += p[i] * p[i];
    total += partial;
  }
  return total;
}

void add_bias_rows(float* out, const float* b, int rows, int cols) {
#pragma omp parallel for schedule(static) if (static_cast <std::int64_t>(rows) * cols > 32768)
  for (int r = 0; r < rows; ++r) {
    float* row = out + static_cast<std::int64_t>(r) * cols;
#pragma omp simd
    for (int j = 0; j < cols; ++j) row[j] += b[j];
  }
}

void column_sums_accumulate(const float* dout, int rows, int cols, float* db, Scratch& scratch) {
  int threads = omp_get_max_threads();
  scratch.reserve_threads(threads);
  if (static_cast<std::int64_t>(rows) * cols < 65536) threads = 1;
#pragma omp parallel num_threads(threads)
  {
    int thread = omp_get_thread_num();
    int team = omp_get_num_threads();
    float* partial = scratch.get(thread, cols);
    for (int j = 0; j < cols; ++j) partial[j] = 0.0f;
    int begin = static_cast<int>(static_cast<std::int64_t>(rows) * thread / team);
    int end = static_cast<int>(static_cast<std::int64_t>(rows) * (thread + 1) / team);
    for (int r = begin; r < end; ++r) {
      const float* row = dout + static_cast<std::int64_t>(r) * cols;
#pragma omp simd
      for (int j = 0; j < cols; ++j) partial[j] += row[j];
    }
#pragma omp barrier
#pragma omp single
    for (int t = 0; t < team; ++t) {
      const float* p = scratch.get(t, cols);
      for (int j = 0; j < cols; ++j) db[j] += p[j];
    }
  }
}

}  // namespace trellis::cpu
