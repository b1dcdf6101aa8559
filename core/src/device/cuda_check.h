// Return codes of the CUDA runtime and cuBLAS turned into trellis::Error, for core's .cu files.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <string>

namespace trellis::cuda {

// "cudaMalloc failed: cudaErrorMemoryAllocation (out of memory) in attention_forward"
std::string describe(cudaError_t status, const char* call);

// Throws trellis::Error when `status` is not cudaSuccess; `what` says what was being done.
void check(cudaError_t status, const char* call, const char* what);
void check(cublasStatus_t status, const char* call, const char* what);
// After a kernel launch: the launch's own error (cudaGetLastError).
void check_launch(const char* kernel);

}  // namespace trellis::cuda
