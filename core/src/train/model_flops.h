// Model FLOPs for MFU, in PaLM's form: a training step does 6N + 12*L*C*T FLOPs per token
// (N parameters: forward + backward of every matrix product, plus attention's scores and
// weighted sums), whatever the implementation actually runs. The peak comes from a short sgemm
// probe on this rank at start-up.
#pragma once

#include <cstdint>

#include "trellis/config.h"
#include "trellis/kernels.h"

namespace trellis {

std::int64_t parameter_count(const ModelDims& dims);  // the model's N, padded vocabulary included
double flops_per_token(const ModelDims& dims);

// FLOP/s of sgemm on square matrices of `size`, best of a few runs after a warm-up.
double measure_sgemm_peak(Kernels& kernels, const std::shared_ptr<Allocator>& allocator,
                          int size = 1024);

}  // namespace trellis
