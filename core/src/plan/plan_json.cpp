#include "plan/plan_json.h"

namespace trellis::plan {

namespace {

Json memory_json(const MemoryBreakdown& m) {
  Json j = Json::object();
  j.set("pipeline_rank", m.pipeline_rank);
  j.set("parameters", m.parameters);
  j.set("gradients", m.gradients);
  j.set("optimizer", m.optimizer);
  j.set("activations", m.activations);
  j.set("other", m.other);
  j.set("total", m.total());
  j.set("alive", m.alive);
  j.set("parameter_count", m.parameter_count);
  return j;
}

}  // namespace

Json prediction_json(const Prediction& p) {
  const LayoutChoice& l = p.layout;
  Json layout = Json::object();
  layout.set("tensor", l.tensor);
  layout.set("pipeline", l.pipeline);
  layout.set("data", l.data);
  layout.set("virtual_stages", l.virtual_stages);
  layout.set("schedule", l.schedule);
  layout.set("tensor_mode", tensor_mode_name(l.tensor_mode));
  layout.set("micro_batch", l.micro_batch);
  layout.set("zero", l.zero);
  layout.set("recompute", recompute_name(l.recompute));
  layout.set("text", l.describe());

  Json time = Json::object();
  const TimeBreakdown& t = p.time;
  time.set("forward", t.forward);
  time.set("backward", t.backward);
  time.set("compute", t.compute);
  time.set("tensor_comm", t.tensor_comm);
  time.set("pipeline_makespan", t.pipeline_makespan);
  time.set("bubble", t.bubble);
  time.set("pipeline_message", t.pipeline_message);
  time.set("data_comm", t.data_comm);
  time.set("data_comm_exposed", t.data_comm_exposed);
  time.set("optimizer", t.optimizer);
  time.set("synchronisation", t.synchronisation);
  time.set("shared_devices", t.shared_devices);
  time.set("step", t.step);

  Json memory = Json::array();
  for (const MemoryBreakdown& m : p.memory) memory.push(memory_json(m));

  Json j = Json::object();
  j.set("layout", layout);
  j.set("dtype", p.precision.dtype);
  j.set("microbatches", p.microbatches);
  j.set("peak_memory", memory_json(p.peak));
  j.set("memory_per_pipeline_rank", memory);
  j.set("per_layer_activation", p.per_layer_activation);
  j.set("published_layer_activation", p.published_layer_activation);
  j.set("device_memory", p.device_memory);
  j.set("fits", p.fits);
  j.set("time", time);
  j.set("bubble_ratio", p.bubble_ratio);
  j.set("tokens_per_step", p.tokens_per_step);
  j.set("tokens_per_s", p.tokens_per_s);
  j.set("model_flops_per_step", p.model_flops_per_step);
  j.set("tflops_per_device", p.tflops_per_device);
  j.set("mfu", p.mfu);
  return j;
}

Json search_json(const SearchResult& r) {
  Json j = Json::object();
  j.set("considered", r.considered);
  j.set("rejected", r.rejected);
  j.set("too_big", r.too_big);
  Json notes = Json::array();
  for (const std::string& n : r.notes) notes.push(n);
  j.set("notes", notes);
  Json ranked = Json::array();
  for (const Prediction& p : r.ranked) ranked.push(prediction_json(p));
  j.set("ranked", ranked);
  return j;
}

}  // namespace trellis::plan
