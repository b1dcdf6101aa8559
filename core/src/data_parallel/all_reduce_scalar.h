// One number reduced over a group (the loss sum, the squared gradient norm, the peak memory).
#pragma once

#include <memory>
#include <vector>

#include "trellis/comm.h"
#include "trellis/kernels.h"
#include "trellis/tensor.h"

namespace trellis {

// Every rank of `group` calls it with its value and gets the reduction. The value travels in a
// one-element f32 tensor from `allocator` (device memory on a GPU, where the nccl backend wants
// it), written and read with `kernels`. f32 is every backend's common type; these sums are of a
// few values, so the rounding is far below the figures' printed precision.
double all_reduce_scalar(Communicator& group, double value, ReduceOp op,
                         const std::shared_ptr<Allocator>& allocator, Kernels& kernels);
// The same for a few numbers at once, in one collective.
std::vector<double> all_reduce_values(Communicator& group, const std::vector<double>& values,
                                      ReduceOp op, const std::shared_ptr<Allocator>& allocator,
                                      Kernels& kernels);

}  // namespace trellis
