#include "parameters.h"

namespace trellis::layers {

Parameter make_parameter(const std::string& name, const Shape& local_shape, const ShardSpec& shard,
                         bool weight_decay, ParamInit init,
                         const std::shared_ptr<Allocator>& alloc) {
  Parameter p;
  p.name = name;
  p.value = Tensor::empty(local_shape, DType::f32, alloc);
  p.grad = Tensor::empty(local_shape, DType::f32, alloc);
  p.global_shape = shard.global_shape;
  p.shard_offset = shard.offset;
  p.tensor_replicas = shard.tensor_replicas;
  p.weight_decay = weight_decay;
  p.init = init;
  return p;
}

ShardSpec replicated(const Shape& shape, int tensor_size) {
  Shape zero = shape;
  for (int d = 0; d < zero.rank(); ++d) zero[d] = 0;
  return {shape, zero, tensor_size};
}

ParamInit normal(float std) {
  return {ParamInit::Kind::normal, std};
}
ParamInit zeros() {
  return {ParamInit::Kind::zeros, 0.0f};
}
ParamInit ones() {
  return {ParamInit::Kind::ones, 0.0f};
}

}  // namespace trellis::layers
