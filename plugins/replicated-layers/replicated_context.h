// What every layer of the replicated family needs: the model's sizes, the microbatch size, the
// kernels and the allocator, and how many ranks of the tensor group hold the same copy of each
// parameter. The family never talks to the tensor group: every rank computes the whole model.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "trellis/layer.h"

namespace replicated {

struct ReplicatedContext {
  trellis::ModelDims dims;
  std::int64_t micro_batch = 1;  // B
  int tensor_size = 1;           // ranks holding a copy of every parameter
  trellis::Kernels* kernels = nullptr;
  std::shared_ptr<trellis::Allocator> allocator;

  std::int64_t tokens() const { return micro_batch * dims.seq_len; }  // N = B*T

  trellis::Tensor empty(const trellis::Shape& shape) const {
    return trellis::Tensor::empty(shape, trellis::DType::f32, allocator);
  }
};

}  // namespace replicated
