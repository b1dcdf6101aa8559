// What every layer of the 1d and seq families needs to know: the model's sizes, this rank's
// place in the tensor group, which tokens it holds between regions, the kernels and the
// allocator.
#pragma once

#include <memory>

#include "token_region.h"
#include "trellis/layer.h"

namespace trellis::layers {

struct FamilyContext {
  ModelDims dims;
  std::int64_t micro_batch = 1;  // B
  Communicator* tensor = nullptr;
  int tensor_size = 1;
  int tensor_rank = 0;
  Kernels* kernels = nullptr;
  std::shared_ptr<Allocator> allocator;
  std::shared_ptr<TokenRegion> region;  // shared by the family's layers

  std::int64_t tokens() const { return micro_batch * dims.seq_len; }  // N = B*T, a whole region
  std::int64_t local_seq_len() const { return region->local_seq_len(); }
  std::int64_t local_hidden() const { return dims.hidden / tensor_size; }  // C / tp
  std::int64_t local_heads() const { return dims.heads / tensor_size; }
  std::int64_t vocab_rows() const { return dims.padded_vocab / tensor_size; }
  std::int64_t vocab_begin() const { return tensor_rank * vocab_rows(); }

  Tensor empty(const Shape& shape) const { return Tensor::empty(shape, DType::f32, allocator); }
};

}  // namespace trellis::layers
