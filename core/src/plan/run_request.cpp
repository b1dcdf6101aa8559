#include "plan/run_request.h"

#include "trellis/error.h"

namespace trellis::plan {

PlanRequest request_from_run(const ResolvedRun& run, ActivationModel activation_model,
                             const std::optional<RecomputeSettings>& recompute) {
  const RunConfig& c = run.config;
  PlanRequest r;
  r.dims = run.dims;
  r.arch = run.arch;
  r.moe = run.moe;
  r.global_batch = c.train.global_batch;
  r.grad_clip = c.optim.grad_clip > 0.0;
  LayoutChoice& l = r.layout;
  const ParallelSizes& sizes = run.layout.sizes();
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
  l.context = sizes.context;
  l.context_mode = c.parallel.context_mode;
  if (l.context > 1 && !r.registry->describes_context_cost(l.context_mode)) {
    throw InputError("parallel.context_mode = \"" + l.context_mode + "\": its context plugin (" +
                     r.registry->find(PluginKind::context, l.context_mode).file.string() +
                     ") does not describe its cost (describe_context_cost, "
                     "trellis/context_cost.h), so trellis-plan cannot predict it");
  }
  if (r.moe.experts > 0 && !r.registry->describes_moe_cost(l.tensor_mode)) {
    throw InputError("model.experts = " + std::to_string(r.moe.experts) +
                     ": the layers plugin of parallel.tensor_mode = \"" + l.tensor_mode +
                     "\" does not describe an MoE block's cost (describe_moe_cost, "
                     "trellis/moe_cost.h), so trellis-plan cannot predict it");
  }
  l.expert = static_cast<int>(r.moe.expert_parallel);
  l.expert_dispatcher = c.parallel.expert_dispatcher;
  if (l.expert > 1 && !r.registry->describes_dispatch_cost(l.expert_dispatcher)) {
    throw InputError("parallel.expert_dispatcher = \"" + l.expert_dispatcher +
                     "\": its dispatcher plugin (" +
                     r.registry->find(PluginKind::dispatcher, l.expert_dispatcher).file.string() +
                     ") does not describe its cost (describe_dispatch_cost, "
                     "trellis/dispatch_cost.h), so trellis-plan cannot predict it");
  }
  l.micro_batch = static_cast<int>(c.train.micro_batch);
  l.zero = static_cast<int>(c.optim.zero);
  l.recompute = recompute ? *recompute : run.recompute;
  l.threads = static_cast<int>(c.device.threads);
  l.order = run.layout.order();
  r.plan = run.pipeline_plan ? &*run.pipeline_plan : nullptr;
  r.activation_model = activation_model;
  return r;
}

}  // namespace trellis::plan
