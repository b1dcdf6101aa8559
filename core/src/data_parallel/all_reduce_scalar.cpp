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

std::vector<double> all_reduce_values(Communicator& group, const std::vector<double>& values,
                                      ReduceOp op, const std::shared_ptr<Allocator>& allocator,
                                      Kernels& kernels) {
  const std::vector<float> sent(values.begin(), values.end());
  Tensor t = Tensor::empty({static_cast<std::int64_t>(sent.size())}, DType::f32, allocator);
  copy_from_host(kernels, sent, t);
  group.all_reduce(t, t, op)->wait();
  const std::vector<float> reduced = f32_to_host(kernels, t);
  return {reduced.begin(), reduced.end()};
}

}  // namespace trellis
