#include "plan/memory_prediction.h"

#include <algorithm>

#include "plan/activation_timeline.h"

namespace trellis::plan {

void predict_memory(const PlanRequest& request, const PredictionInputs& in,
                    const ClusterSpec& cluster, Prediction& out) {
  const LayoutChoice& choice = request.layout;
  const Precision& prec = in.precision;
  const PipelinePlan& plan = *in.plan;
  const int stages = plan.stages();
  const int last = stages - 1;
  // ZeRO-1 shards the optimizer over the data x context group (the gradients' reduction group).
  const int d = choice.data * choice.context;
  const int expert_d = choice.data / choice.expert;  // experts' gradients: the expert-data group

  std::vector<ChunkActivations> activations;
  for (const StageInputs& s : in.stages) activations.push_back(s.activations);
  out.per_layer_activation = activations[0].per_layer;
  out.published_layer_activation =
      published_layer_activation_bytes(in.shape, in.cost.activations_sharded);

  std::vector<int> walked;
  if (request.memory_only && plan.pipeline_size > 8) {
    walked = {plan.stage_rank[0], plan.stage_rank[static_cast<std::size_t>(last)]};
  }
  const std::vector<ActivationPeak> peaks = activation_peaks(plan, activations, walked);
  auto optimizer_share = [&](int group) {
    return choice.zero == 0 ? prec.optimizer_bytes
                            : (prec.optimizer_bytes + prec.sharded_extra_bytes) / group;
  };
  out.device_memory = cluster.accelerator.memory_bytes * in.rank_devices;
  for (int r = 0; r < plan.pipeline_size; ++r) {
    if (!walked.empty() && std::find(walked.begin(), walked.end(), r) == walked.end()) continue;
    MemoryBreakdown mem;
    mem.pipeline_rank = r;
    bool reads_data = false;
    for (int s = 0; s < stages; ++s) {
      if (plan.stage_rank[static_cast<std::size_t>(s)] != r) continue;
      const StageInputs& stage = in.stages[static_cast<std::size_t>(s)];
      mem.parameter_count += stage.parameters + stage.expert_parameters;
      mem.expert_parameter_count += stage.expert_parameters;
      reads_data = reads_data || s == 0 || s == last;
    }
    mem.parameters = mem.parameter_count * prec.parameter_bytes;
    mem.gradients = mem.parameter_count * prec.gradient_bytes;
    mem.optimizer = (mem.parameter_count - mem.expert_parameter_count) * optimizer_share(d) +
                    mem.expert_parameter_count * optimizer_share(expert_d);
    mem.activations = peaks[static_cast<std::size_t>(r)].bytes;
    mem.alive = peaks[static_cast<std::size_t>(r)].alive;
    // Token and target ids of every microbatch of the step (the rank's T/c of each sequence),
    // made when the step starts.
    if (reads_data) {
      mem.other =
          2.0 * 4.0 * choice.micro_batch * static_cast<double>(in.shape.seq_len) * in.microbatches;
    }
    if (out.memory.empty() || mem.total() > out.peak.total()) out.peak = mem;
    out.memory.push_back(mem);
  }
  out.fits = out.peak.total() <= out.device_memory;
}

}  // namespace trellis::plan
