#include "kernels/cuda/gemm.h"

#include <cuda_bf16.h>

#include "device/cuda_check.h"
#include "kernels/cuda/cuda_ops.h"

namespace trellis::cuda {

DeviceBuffer::~DeviceBuffer() {
  if (data_) cudaFreeAsync(data_, compute_stream());
}

// Stream-ordered allocation on the compute stream, the only stream that uses the block: the old
// block is released after the work queued before it, without waiting for the device. cudaFree
// would wait for every stream, the nccl backend's included, where a receive posted for a peer
// that is itself waiting for this rank never completes.
void* DeviceBuffer::get(std::size_t bytes, const char* what) {
  if (bytes <= bytes_) return data_;
  if (data_) check(cudaFreeAsync(data_, compute_stream()), "cudaFreeAsync", what);
  data_ = nullptr;
  bytes_ = 0;
  check(cudaMallocAsync(&data_, bytes, compute_stream()), "cudaMallocAsync (kernel scratch)", what);
  bytes_ = bytes;
  return data_;
}

Gemm::Gemm(int device, bool bf16_operands) : bf16_operands_(bf16_operands) {
  check(cudaSetDevice(device), "cudaSetDevice", "the CUDA kernels");
  check(cublasCreate(&handle_), "cublasCreate", "the CUDA kernels");
  check(cublasSetStream(handle_, compute_stream()), "cublasSetStream", "the CUDA kernels");
  // fp32 products stay fp32 (no TF32), so they agree with the CPU kernels.
  check(cublasSetMathMode(handle_, CUBLAS_DEFAULT_MATH), "cublasSetMathMode", "the CUDA kernels");
}

Gemm::~Gemm() {
  if (handle_) cublasDestroy(handle_);
}

const void* Gemm::as_bf16(const GemmOperand& operand, int batch, DeviceBuffer& buffer) {
  const std::int64_t span = (batch - 1) * operand.stride +
                            static_cast<std::int64_t>(operand.rows - 1) * operand.ld + operand.cols;
  auto* converted = buffer.get<__nv_bfloat16>(static_cast<std::size_t>(span), "bf16 operands");
  f32_to_bf16(operand.data, converted, span);
  return converted;
}

void Gemm::run(const char* kernel, bool ta, bool tb, int m, int n, int k, float alpha,
               const GemmOperand& a, const GemmOperand& b, float beta, const GemmOutput& c,
               int batch) {
  if (m == 0 || n == 0 || batch == 0) return;
  if (k == 0) {
    // Nothing to multiply: c = beta * c (zero for beta = 0, whatever c held), as BLAS defines it.
    for (int i = 0; i < batch; ++i) {
      for (int row = 0; row < m; ++row) {
        float* c_row = c.data + i * c.stride + std::int64_t{row} * c.ld;
        if (beta == 0.0f) {
          fill(c_row, n, 0.0f);
        } else {
          scale(c_row, n, beta);
        }
      }
    }
    return;
  }
  const void* a_data = a.data;
  const void* b_data = b.data;
  cudaDataType_t type = CUDA_R_32F;
  if (bf16_operands_) {
    a_data = as_bf16(a, batch, a_bf16_);
    b_data = as_bf16(b, batch, b_bf16_);
    type = CUDA_R_16BF;
  }
  // Row-major C[m,n] is column-major C^T[n,m] = op(B)^T op(A)^T: B first, transposes as given.
  const cublasOperation_t op_b = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_a = ta ? CUBLAS_OP_T : CUBLAS_OP_N;
  check(
      cublasGemmStridedBatchedEx(handle_, op_b, op_a, n, m, k, &alpha, b_data, type, b.ld, b.stride,
                                 a_data, type, a.ld, a.stride, &beta, c.data, CUDA_R_32F, c.ld,
                                 c.stride, batch, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
      "cublasGemmStridedBatchedEx", kernel);
}

}  // namespace trellis::cuda
