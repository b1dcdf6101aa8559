#include "plan/run_request.h"

#include "trellis/error.h"

namespace trellis::plan {

PlanRequest request_from_run(const ResolvedRun& run, Recompute recompute,
                             ActivationModel activation_model) {
  const RunConfig& c = run.config;
  PlanRequest r;
  r.dims = run.dims;
  r.global_batch = c.train.global_batch;
  r.grad_clip = c.optim.grad_clip > 0.0;
  LayoutChoice& l = r.layout;
  const ParallelSizes& sizes = run.layout.sizes();
  if (sizes.context > 1) {
    throw InputError("parallel.context = " + std::to_string(sizes.context) +
                     ": trellis-plan does not model context parallelism (its attention's "
                     "communication and memory); valid for planning: context = 1");
  }
  l.tensor = sizes.tensor;
  l.pipeline = sizes.pipeline;
  l.data = sizes.data;
  l.virtual_stages = run.virtual_stages;
  l.schedule = c.parallel.schedule;
  l.tensor_mode = c.parallel.tensor_mode;
  r.registry = run.registry.get();
  if (r.registry == nullptr || !r.registry->describes_cost(l.tensor_mode)) {
    throw InputError(
        "parallel.tensor_mode = \"" + l.tensor_mode + "\": its layers plugin" +
        (r.registry != nullptr
             ? " (" + r.registry->find(PluginKind::layers, l.tensor_mode).file.string() + ")"
             : std::string()) +
        " does not describe its cost (describe_cost, trellis/layer_cost.h), so "
        "trellis-plan cannot predict it");
  }
  l.micro_batch = static_cast<int>(c.train.micro_batch);
  l.zero = static_cast<int>(c.optim.zero);
  l.recompute = recompute;
  l.threads = static_cast<int>(c.device.threads);
  l.order = run.layout.order();
  r.plan = run.pipeline_plan ? &*run.pipeline_plan : nullptr;
  r.activation_model = activation_model;
  return r;
}

}  // namespace trellis::plan
