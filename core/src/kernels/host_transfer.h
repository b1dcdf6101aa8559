// Moving values between host code and tensors that may live in device memory.
//
// The trainer's host-side steps — parameter initialisation, batches, llm.c files, checkpoints,
// the loss and norm scalars — build or consume their values in host memory and never dereference
// a training tensor: on a GPU its data pointer is device memory. They move values with these
// functions, which borrow the host span as a CPU tensor and call Kernels::copy (the CUDA kernels
// copy between host and device; the CPU kernels copy between host buffers). One code path for
// every device; on the CPU it costs one memcpy of what host code writes, which is small next to
// producing it (a file read, a random draw). The fenced test device (tests/fenced/fenced_device.h)
// proves the rule on machines without a GPU.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "trellis/kernels.h"
#include "trellis/tensor.h"

namespace trellis {

// dst (contiguous, numel == host.size(), the same dtype) <- host.
void copy_from_host(Kernels& kernels, std::span<const float> host, const Tensor& dst);
void copy_from_host(Kernels& kernels, std::span<const std::int32_t> host, const Tensor& dst);

// host (host.size() == src.numel()) <- src (contiguous, the same dtype).
void copy_to_host(Kernels& kernels, const Tensor& src, std::span<float> host);

// The values of an f32 tensor, in a new vector.
std::vector<float> f32_to_host(Kernels& kernels, const Tensor& src);

// The single element of a one-element f32 tensor; and writing one.
float read_scalar(Kernels& kernels, const Tensor& src);
void write_scalar(Kernels& kernels, const Tensor& dst, float value);

}  // namespace trellis
