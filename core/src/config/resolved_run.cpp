#include "config/resolved_run.h"

namespace trellis {

namespace {

const Options& options_of(const std::map<std::string, Options>& tables, const std::string& key) {
  static const Options none;
  auto it = tables.find(key);
  return it == tables.end() ? none : it->second;
}

}  // namespace

const Options& ResolvedRun::backend_options() const {
  return options_of(plugin_options, "comm." + config.comm.backend);
}

const Options& ResolvedRun::backend_options(const std::string& name) const {
  return options_of(plugin_options, "comm." + name);
}

std::string ResolvedRun::group_backend(CommDimension dimension) const {
  return comm_group_backend(config.comm, dimension, layout, static_cast<int>(moe.expert_parallel));
}

std::vector<std::string> ResolvedRun::comm_backends() const {
  return comm_backends_used(config.comm, layout, static_cast<int>(moe.expert_parallel));
}

const Options& ResolvedRun::schedule_options() const {
  return options_of(plugin_options, "schedule." + config.parallel.schedule);
}

const Options& ResolvedRun::layers_options() const {
  return options_of(plugin_options, "layers." + config.parallel.tensor_mode);
}

const Options& ResolvedRun::context_options() const {
  return options_of(plugin_options, "context." + config.parallel.context_mode);
}

const Options& ResolvedRun::dispatcher_options() const {
  return options_of(plugin_options, "dispatcher." + config.parallel.expert_dispatcher);
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
  q.moe = moe;
  q.arch = arch;
  return q;
}

}  // namespace trellis
