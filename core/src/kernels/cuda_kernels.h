// The CUDA implementation of trellis::Kernels, on the memory of device/cuda_device.h.
//
// Precision. `CudaPrecision::f32` computes everything in fp32 (cuBLAS without TF32), which agrees
// with the CPU kernels up to summation order. `CudaPrecision::bf16` is mixed precision: the
// operands of every matrix product (linear, matmul, attention) are rounded to bf16 and multiplied
// on the tensor cores with fp32 accumulation into fp32 outputs; parameters (the master weights),
// gradients (accumulated in fp32), optimizer state and the other kernels stay fp32.
//
// Every CUDA, cuBLAS return code is checked (device/cuda_check.h). Built without CUDA, the factory
// throws an Error saying so.
#pragma once

#include <cstdint>
#include <memory>

#include "trellis/kernels.h"

namespace trellis {

enum class CudaPrecision : std::uint8_t { f32, bf16 };

// The CUDA Kernels on `device`. Tensors must be on that device, except for copy(), which also
// moves between host and device memory (and converts f32 <-> bf16 on the device).
std::shared_ptr<Kernels> make_cuda_kernels(int device,
                                           CudaPrecision precision = CudaPrecision::f32);

}  // namespace trellis
