#include "train/optimizer.h"

#include "train/distributed_adamw.h"
#include "train/replicated_adamw.h"

namespace trellis {

std::unique_ptr<Optimizer> make_optimizer(int zero, OptimizerSetup setup) {
  if (zero == 1) return std::make_unique<DistributedAdamW>(std::move(setup));
  return std::make_unique<ReplicatedAdamW>(std::move(setup));
}

std::string moment_name(const char* moment, const std::string& parameter) {
  return std::string("adamw.") + moment + "/" + parameter;
}

}  // namespace trellis
