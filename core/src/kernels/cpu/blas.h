// Thin helpers over cblas for row-major 2-D tensor views.
#pragma once

#include <cblas.h>

#include "trellis/tensor.h"

namespace trellis::cpu {

// Rows, columns and row stride of a 2-D view whose columns are contiguous.
struct Matrix {
  float* data;
  int rows;
  int cols;
  int ld;
};

Matrix as_matrix(const Tensor& t, const char* what);

// c = alpha * op(a) @ op(b) + beta * c on raw row-major matrices.
inline void sgemm(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda,
                  const float* b, int ldb, float beta, float* c, int ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n,
              k, alpha, a, lda, b, ldb, beta, c, ldc);
}

// Sets OpenBLAS's thread count for the lifetime of the object (used around OpenMP regions that
// call sgemm from every thread, where nested BLAS threads would oversubscribe the cores).
class BlasThreadsScope {
 public:
  BlasThreadsScope(int inside, int restore) : restore_(restore) { openblas_set_num_threads(inside); }
  ~BlasThreadsScope() { openblas_set_num_threads(restore_); }
  BlasThreadsScope(const BlasThreadsScope&) = delete;
  BlasThreadsScope& operator=(const BlasThreadsScope&) = delete;

 private:
  int restore_;
};

}  // namespace trellis::cpu
