#include "plan/plan_json.h"

namespace trellis::plan {

namespace {

json::Document memory_json(const MemoryBreakdown& m) {
  json::Document j = json::Document::object();
  j["pipeline_rank"] = m.pipeline_rank;
  j["parameters"] = m.parameters;
  j["gradients"] = m.gradients;
  j["optimizer"] = m.optimizer;
  j["activations"] = m.activations;
  j["other"] = m.other;
  j["total"] = m.total();
  j["alive"] = m.alive;
  j["parameter_count"] = m.parameter_count;
  j["expert_parameter_count"] = m.expert_parameter_count;
  return j;
}

}  // namespace

json::Document prediction_json(const Prediction& p) {
  const LayoutChoice& l = p.layout;
  json::Document layout = json::Document::object();
  layout["tensor"] = l.tensor;
  layout["pipeline"] = l.pipeline;
  layout["data"] = l.data;
  layout["virtual_stages"] = l.virtual_stages;
  layout["schedule"] = l.schedule;
  layout["tensor_mode"] = l.tensor_mode;
  layout["context"] = l.context;
  layout["context_mode"] = l.context > 1 ? json::Document(l.context_mode) : json::Document();
  layout["expert"] = l.expert;
  layout["expert_dispatcher"] =
      l.expert > 1 ? json::Document(l.expert_dispatcher) : json::Document();
  layout["micro_batch"] = l.micro_batch;
  layout["zero"] = l.zero;
  layout["recompute"] = recompute_name(l.recompute.granularity);
  // Full recomputation's groups (model/recompute_plan.h); null for none and selective.
  const bool full = l.recompute.granularity == Recompute::full;
  layout["recompute_method"] =
      full ? json::Document(recompute_method_name(l.recompute.method)) : json::Document();
  layout["recompute_num_layers"] = full ? json::Document(l.recompute.num_layers) : json::Document();
  layout["text"] = l.describe();

  json::Document time = json::Document::object();
  const TimeBreakdown& t = p.time;
  time["forward"] = t.forward;
  time["backward"] = t.backward;
  time["compute"] = t.compute;
  time["tensor_comm"] = t.tensor_comm;
  time["context_comm"] = t.context_comm;
  time["context_comm_hidden"] = t.context_comm_hidden;
  time["expert_comm"] = t.expert_comm;
  time["pipeline_makespan"] = t.pipeline_makespan;
  time["bubble"] = t.bubble;
  time["pipeline_message"] = t.pipeline_message;
  time["data_comm"] = t.data_comm;
  time["data_comm_exposed"] = t.data_comm_exposed;
  time["optimizer"] = t.optimizer;
  time["synchronisation"] = t.synchronisation;
  time["shared_devices"] = t.shared_devices;
  time["step"] = t.step;

  json::Document memory = json::Document::array();
  for (const MemoryBreakdown& m : p.memory) memory.push_back(memory_json(m));

  json::Document j = json::Document::object();
  j["layout"] = layout;
  j["dtype"] = p.precision.dtype;
  j["microbatches"] = p.microbatches;
  j["peak_memory"] = memory_json(p.peak);
  j["memory_per_pipeline_rank"] = memory;
  j["per_layer_activation"] = p.per_layer_activation;
  j["published_layer_activation"] = p.published_layer_activation;
  j["device_memory"] = p.device_memory;
  j["fits"] = p.fits;
  j["time"] = time;
  j["bubble_ratio"] = p.bubble_ratio;
  j["tokens_per_step"] = p.tokens_per_step;
  j["tokens_per_s"] = p.tokens_per_s;
  j["model_parameters"] = p.model_parameters;
  j["active_parameters"] = p.active_parameters;
  j["model_flops_per_step"] = p.model_flops_per_step;
  j["tflops_per_device"] = p.tflops_per_device;
  j["mfu"] = p.mfu;
  return j;
}

json::Document search_json(const SearchResult& r) {
  json::Document j = json::Document::object();
  j["considered"] = r.considered;
  j["rejected"] = r.rejected;
  j["too_big"] = r.too_big;
  json::Document notes = json::Document::array();
  for (const std::string& n : r.notes) notes.push_back(n);
  j["notes"] = notes;
  json::Document ranked = json::Document::array();
  for (const Prediction& p : r.ranked) ranked.push_back(prediction_json(p));
  j["ranked"] = ranked;
  return j;
}

}  // namespace trellis::plan
