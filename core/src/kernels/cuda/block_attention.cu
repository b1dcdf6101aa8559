// The block-attention kernels on CUDA devices: placeholders until the device kernels land.
#include "kernels/cuda/cuda_ops.h"
#include "trellis/error.h"

namespace trellis::cuda {

void attention_block_forward(const float*, const float*, const TokenPositions&,
                             const TokenPositions&, float*, float*, bool, int, int, int) {
  throw Error("attention_block_forward: not yet on this device");
}
void attention_block_backward(const float*, const float*, const float*, const TokenPositions&,
                              const TokenPositions&, const float*, const float*, float*, float*,
                              int, int, int) {
  throw Error("attention_block_backward: not yet on this device");
}
void copy_columns(const float*, std::int64_t, std::int64_t, float*, std::int64_t, std::int64_t,
                  std::int64_t, std::int64_t) {
  throw Error("copy_columns: not yet on this device");
}

}  // namespace trellis::cuda
