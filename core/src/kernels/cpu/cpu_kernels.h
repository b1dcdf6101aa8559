// The CPU implementation of trellis::Kernels: OpenBLAS sgemm for matrix products, OpenMP loops
// for the rest. Scratch space is kept per thread and reused, so no memory is allocated per step
// once the shapes have been seen.
#pragma once

#include <memory>
#include <vector>

#include "trellis/kernels.h"

namespace trellis {

// `threads` = 0 keeps the runtime's defaults (OpenBLAS and OpenMP decide).
// OpenBLAS's thread count is process-wide, so one process should use one CpuKernels setting.
std::shared_ptr<Kernels> make_cpu_kernels(int threads);

}  // namespace trellis
