#include "data_parallel/all_reduce_scalar.h"

#include "kernels/host_transfer.h"

namespace trellis {

double all_reduce_scalar(Communicator& group, double value, ReduceOp op,
                         const std::shared_ptr<Allocator>& allocator, Kernels& kernels) {
  Tensor t = Tensor::empty({1}, DType::f32, allocator);
  write_scalar(kernels, t, static_cast<float>(value));
  group.all_reduce(t, t, op)->wait();
  return read_scalar(kernels, t);
}

}  // namespace trellis
