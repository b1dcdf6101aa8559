#include "plan/dry_run_memory.h"

#include <cstdio>

#include "plan/plan_report.h"
#include "plan/run_request.h"
#include "trellis/error.h"

namespace trellis::plan {

namespace {

// Every rank on a device of its own: the memory prediction reads the layout, not the links.
ClusterSpec one_device_a_rank(const ResolvedRun& run) {
  ClusterSpec cluster;
  cluster.name = "the run's ranks";
  cluster.devices_per_node = run.world_size;
  cluster.accelerator.kind = AcceleratorKind::gpu;
  // Rates the time half would read (the memory half does not): any positive figure.
  for (const char* dtype : {"fp32", "bf16"}) cluster.accelerator.peak_flops[dtype] = 1.0;
  return cluster;
}

}  // namespace

std::string format_predicted_memory(const ResolvedRun& run) {
  std::string out = "\nMemory (predicted by trellis-plan's model, docs/planner.md)\n";
  const int chunks = run.layout.sizes().pipeline * run.virtual_stages;
  out += "  recompute: " +
         describe_recompute(run.recompute, static_cast<int>(run.dims.layers) / chunks) + "\n";
  Prediction prediction;
  try {
    PlanRequest request = request_from_run(run, ActivationModel::trellis);
    request.precision = trellis_device_precision(run.config.device.precision == "bf16");
    request.memory_only = true;
    prediction = predict(request, one_device_a_rank(run));
  } catch (const InputError& e) {
    return out + "  not predicted: " + e.what() + "\n";
  }
  const std::int64_t limit_mb = run.config.device.memory_limit_mb;
  const double limit = static_cast<double>(limit_mb) * 1024.0 * 1024.0;
  char line[256];
  std::snprintf(line, sizeof line, "  %-14s %14s %14s %14s%s\n", "pipeline rank",
                "params+grads+opt", "activations", "total",
                limit_mb > 0 ? "  memory_limit_mb" : "");
  out += line;
  for (const MemoryBreakdown& m : prediction.memory) {
    const double state = m.parameters + m.gradients + m.optimizer;
    std::string fits;
    if (limit_mb > 0) {
      fits = m.total() <= limit ? "  fits under " + std::to_string(limit_mb) + " MiB"
                                : "  does NOT fit under " + std::to_string(limit_mb) + " MiB";
    }
    std::snprintf(line, sizeof line, "  %-14d %16s %14s %14s%s\n", m.pipeline_rank,
                  format_bytes(state).c_str(), format_bytes(m.activations).c_str(),
                  format_bytes(m.total()).c_str(), fits.c_str());
    out += line;
  }
  out +=
      "  (each rank's highest point over a step, its step's token ids included; per rank of "
      "the stage)\n";
  return out;
}

}  // namespace trellis::plan
