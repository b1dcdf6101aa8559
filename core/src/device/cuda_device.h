// The CUDA device: allocators on cudaMalloc, and waiting for the compute stream. The CUDA
// implementation of trellis::Kernels that runs on it is kernels/cuda_kernels.h.
//
// Streams. Every kernel, cuBLAS call and copy of the CUDA Kernels runs on the device's legacy
// default stream (cudaStreamLegacy), the one "compute stream" of a process. Communication backends
// (the nccl plugin) run on streams of their own and order themselves after compute with events
// recorded on that stream, so neither side needs the other's handles. Results that come back to
// the host (sum_squares, xent_loss_sum, copies to host memory) synchronise the stream.
//
// Every CUDA, cuBLAS return code is checked: a failure is a trellis::Error naming the call, the
// kernel and the runtime's message. Built without CUDA, the factories throw an Error saying so.
// One device per process thread: the factories select `device` on the calling thread.
#pragma once

#include <memory>

#include "trellis/tensor.h"

namespace trellis {

// Device memory from cudaMalloc on `device`, counted like every allocator (current, peak). Freed
// blocks are cached by exact size and reused, as the CPU allocator does; the cache is returned to
// the device when the allocator goes. Out of memory is an Error with the bytes asked for, held
// and cached.
std::shared_ptr<Allocator> make_cuda_allocator(int device);

// Managed memory (cudaMallocManaged) on `device`: tensors say cuda:N and device code reads them,
// and the host may read and write them too once the work using them has completed. For tests and
// tools that fill and check buffers on the host (the comm conformance suite over nccl).
std::shared_ptr<Allocator> make_cuda_managed_allocator(int device);

// Returns once every kernel and copy queued on `device`'s compute stream has finished (the
// communication streams are not waited for). For timings that must cover the device's work, such
// as the trace's compute slices.
void wait_for_cuda_compute(int device);

}  // namespace trellis
