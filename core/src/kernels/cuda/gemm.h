// Row-major matrix products on cuBLAS (column-major underneath: C^T = op(B)^T op(A)^T), single or
// strided-batched, in fp32 or with bf16 operands (fp32 accumulation and fp32 outputs).
#pragma once

#include <cublas_v2.h>

#include <cstdint>

#include "kernels/cuda/device_buffer.h"

namespace trellis::cuda {

// A row-major operand: `rows` x `cols` (before any transpose) at `data` with row stride `ld`;
// in a batch, matrix i starts `stride` elements after matrix i - 1.
struct GemmOperand {
  const float* data;
  int rows;
  int cols;
  int ld;
  std::int64_t stride = 0;
};

struct GemmOutput {
  float* data;
  int ld;
  std::int64_t stride = 0;
};

class Gemm {
 public:
  Gemm(int device, bool bf16_operands);
  ~Gemm();
  Gemm(const Gemm&) = delete;
  Gemm& operator=(const Gemm&) = delete;

  // c_i = alpha * op(a_i) @ op(b_i) + beta * c_i for i < batch; shapes already checked.
  void run(const char* kernel, bool ta, bool tb, int m, int n, int k, float alpha,
           const GemmOperand& a, const GemmOperand& b, float beta, const GemmOutput& c,
           int batch = 1);

 private:
  // `operand`'s elements as bf16 in `buffer`, at the same offsets (the whole span the batch covers
  // is converted, so row and batch strides apply unchanged).
  const void* as_bf16(const GemmOperand& operand, int batch, DeviceBuffer& buffer);

  cublasHandle_t handle_ = nullptr;
  bool bf16_operands_;
  DeviceBuffer a_bf16_;
  DeviceBuffer b_bf16_;
};

}  // namespace trellis::cuda
