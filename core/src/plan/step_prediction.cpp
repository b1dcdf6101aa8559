#include "plan/step_prediction.h"

#include "plan/memory_prediction.h"
#include "plan/prediction_inputs.h"
#include "plan/time_prediction.h"
#include "train/model_flops.h"

namespace trellis::plan {

int devices_per_rank(const ClusterSpec& cluster, const LayoutChoice& layout) {
  if (cluster.accelerator.kind == AcceleratorKind::gpu) return 1;
  return layout.threads > 0 ? layout.threads : cluster.devices_per_node;
}

Prediction predict(const PlanRequest& request, const ClusterSpec& cluster) {
  const PredictionInputs in = prediction_inputs(request, cluster);
  Prediction out;
  out.layout = request.layout;
  out.precision = in.precision;
  out.microbatches = in.microbatches;
  out.placement = in.placement;
  out.tensor_link = in.tensor_link;
  out.data_link = in.data_link;
  out.context_link = in.context_link;
  out.pipeline_link = in.pipeline_link;
  out.expert_link = in.expert_link;
  out.expert_data_link = in.expert_data_link;
  const ModelArchitecture arch = request.architecture();
  out.model_parameters = static_cast<double>(parameter_count(request.dims, request.moe, arch));
  out.active_parameters =
      static_cast<double>(active_parameter_count(request.dims, request.moe, arch));
  predict_memory(request, in, cluster, out);
  if (request.memory_only) return out;
  predict_time(request, in, cluster, out);
  return out;
}

}  // namespace trellis::plan
