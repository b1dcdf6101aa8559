#include "data_parallel/optimizer.h"

#include "data_parallel/distributed_adamw.h"
#include "data_parallel/replicated_adamw.h"

namespace trellis {

std::unique_ptr<Optimizer> make_optimizer(int zero, OptimizerSetup setup) {
  if (zero == 1) return std::make_unique<DistributedAdamW>(std::move(setup));
  return std::make_unique<ReplicatedAdamW>(std::move(setup));
}

std::vector<Parameter*> OptimizerSetup::parameters() const {
  std::vector<Parameter*> out;
  for (const auto& [stage, layers] : stage_layers)
    for (const auto& params : layers) out.insert(out.end(), params.begin(), params.end());
  return out;
}

Communicator& OptimizerSetup::replicas(bool expert_bucket) const {
  return expert_bucket ? *groups->expert_data : *groups->data_context;
}

GradientBucketSetup OptimizerSetup::bucket_setup(std::int64_t pad_to, std::int64_t expert_pad_to,
                                                 bool pack_values) const {
  GradientBucketSetup b;
  b.separate_experts = expert_parallel();
  b.expert_pad_to = expert_pad_to;
  b.stage_layers = stage_layers;
  b.bucket_bytes = bucket_bytes;
  b.alone = tied_table;
  b.pad_to = pad_to;
  b.pack_values = pack_values;
  b.kernels = kernels;
  b.allocator = allocator;
  b.trace = trace;
  return b;
}

std::string moment_name(const char* moment, const std::string& parameter) {
  return std::string("adamw.") + moment + "/" + parameter;
}

}  // namespace trellis
