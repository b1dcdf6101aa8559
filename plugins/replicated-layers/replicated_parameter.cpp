#include "replicated_parameter.h"

namespace replicated {

trellis::ParamInit normal_init(float std) {
  return {trellis::ParamInit::Kind::normal, std};
}

trellis::ParamInit zeros_init() {
  return {trellis::ParamInit::Kind::zeros, 0.0f};
}

trellis::ParamInit ones_init() {
  return {trellis::ParamInit::Kind::ones, 0.0f};
}

trellis::Parameter make_replicated_parameter(const ReplicatedContext& ctx, const std::string& name,
                                             const trellis::Shape& shape, bool weight_decay,
                                             trellis::ParamInit init) {
  trellis::Parameter p;
  p.name = name;
  p.value = ctx.empty(shape);
  p.grad = ctx.empty(shape);
  p.global_shape = shape;
  // Starts at the origin in every dimension: the shard is the whole tensor.
  p.shard_offset = shape;
  for (int d = 0; d < shape.rank(); ++d) p.shard_offset[d] = 0;
  p.tensor_replicas = ctx.tensor_size;
  p.weight_decay = weight_decay;
  p.init = init;
  return p;
}

}  // namespace replicated
