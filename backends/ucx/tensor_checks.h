// What the ucx backend accepts, checked before anything is sent.
//
// Wrong calls fail on the calling rank with a message naming the operation and the tensor at
// fault, instead of corrupting memory or surfacing later as a size mismatch on another rank.
#pragma once

#include "trellis/comm.h"
#include "trellis/tensor.h"

namespace trellis::ucx {

// A defined, contiguous tensor in host memory. Throws UnsupportedError for device tensors, Error
// otherwise.
void check_host_tensor(const char* operation, const char* role, const Tensor& tensor);

// f32 and i32 reduce with sum, max, min; avg is f32 only. Throws UnsupportedError
// ("backend ucx does not support bf16 all_reduce").
void check_reducible(const char* operation, DType dtype, ReduceOp op);

// Throws Error unless `output` has `input`'s dtype and `expected` elements; `rule` says why
// ("n x input") in the message.
void check_output(const char* operation, const Tensor& input, const Tensor& output,
                  std::int64_t expected, const char* rule);

// Throws Error unless 0 <= rank < size.
void check_rank(const char* operation, const char* role, int rank, int size);

}  // namespace trellis::ucx
