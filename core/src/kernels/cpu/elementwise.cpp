#include <omp.h>

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
  double total = 0.0;
#pragma omp parallel for reduction(+ : total) schedule(static) if (n > 65536)
  for (std::int64_t i = 0; i < n; ++i) total += static_cast<double>(x[i]) * x[i];
  return total;
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
