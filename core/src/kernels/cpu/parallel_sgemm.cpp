#include <omp.h>

#include <algorithm>

#include "kernels/cpu/blas.h"

namespace trellis::cpu {

void parallel_sgemm(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda,
                    const float* b, int ldb, float beta, float* c, int ldc) {
  const int threads = omp_get_max_threads();
  // Below this much work a split costs more than it saves.
  const double work = static_cast<double>(m) * n * k;
  if (threads <= 1 || work < 64.0 * 64 * 64 || omp_in_parallel()) {
    sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  const bool split_rows = m >= n;
  const int extent = split_rows ? m : n;
  // Blocks are multiples of 16 rows/columns, the width of the BLAS micro-kernels.
  const int per_thread = (extent + threads - 1) / threads;
  const int block = std::max(16, (per_thread + 15) / 16 * 16);
  const int blocks = (extent + block - 1) / block;
#pragma omp parallel for schedule(static) num_threads(std::min(threads, blocks))
  for (int i = 0; i < blocks; ++i) {
    const int begin = i * block;
    const int size = std::min(block, extent - begin);
    if (split_rows) {
      // Rows [begin, begin + size) of op(a) and of c.
      const float* a_part = ta ? a + begin : a + static_cast<long>(begin) * lda;
      sgemm(ta, tb, size, n, k, alpha, a_part, lda, b, ldb, beta,
            c + static_cast<long>(begin) * ldc, ldc);
    } else {
      // Columns [begin, begin + size) of op(b) and of c.
      const float* b_part = tb ? b + static_cast<long>(begin) * ldb : b + begin;
      sgemm(ta, tb, m, size, k, alpha, a, lda, b_part, ldb, beta, c + begin, ldc);
    }
  }
}

}  // namespace trellis::cpu
