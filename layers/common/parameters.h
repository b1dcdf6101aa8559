// Making parameters: this rank's shard of a parameter, with where it sits in the whole one, so
// initialisation, llm.c import/export and checkpoints reach every layout. Shared by the layer
// families built in this tree.
#pragma once

#include <memory>
#include <string>

#include "trellis/layer.h"

namespace trellis::layers {

// Where this rank's shard sits in the whole parameter.
struct ShardSpec {
  Shape global_shape;
  Shape offset;
  int tensor_replicas = 1;
};

// A parameter with value and gradient allocated (values are filled by core's initialiser).
Parameter make_parameter(const std::string& name, const Shape& local_shape, const ShardSpec& shard,
                         bool weight_decay, ParamInit init,
                         const std::shared_ptr<Allocator>& alloc);

// The replicated case: every rank of the tensor group holds the whole parameter.
ShardSpec replicated(const Shape& shape, int tensor_size);

ParamInit normal(float std);
ParamInit zeros();
ParamInit ones();

}  // namespace trellis::layers
