#include "config/resolved_run.h"

namespace trellis {

const Options& ResolvedRun::backend_options() const {
  static const Options none;
  auto it = comm_options.find(config.comm.backend);
  return it == comm_options.end() ? none : it->second;
}

RunQuery ResolvedRun::query(const Options* options) const {
  RunQuery q;
  q.dims = dims;
  q.sizes = layout.sizes();
  q.virtual_stages = virtual_stages;
  q.microbatches = microbatches;
  q.micro_batch = static_cast<int>(config.train.micro_batch);
  q.device = device;
  q.options = options;
  return q;
}

}  // namespace trellis
