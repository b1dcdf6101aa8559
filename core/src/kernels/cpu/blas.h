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

// c = alpha * op(a) @ op(b) + beta * c using every OpenMP thread: the output is cut into one
// block of rows (or of columns, when it is wide) per thread and each block is one single-threaded
// sgemm. OpenBLAS itself runs on one thread, so the process has a single pool of threads (no
// BLAS threads spinning against OpenMP's).
void parallel_sgemm(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda,
                    const float* b, int ldb, float beta, float* c, int ldc);

}  // namespace trellis::cpu
