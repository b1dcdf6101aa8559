#include "collectives.h"

namespace trellis::layers {

void all_reduce_sum(Communicator* group, const Tensor& t) {
  if (group == nullptr || group->size() == 1) return;
  group->all_reduce(t, t, ReduceOp::sum)->wait();
}

}  // namespace trellis::layers
