#include "plan/plan_report.h"

#include <cmath>
#include <cstdio>

namespace trellis::plan {

namespace {

std::string format(const char* pattern, double value) {
  char text[64];
  std::snprintf(text, sizeof text, pattern, value);
  return text;
}

std::string pad(const std::string& text, std::size_t width) {
  return text.size() >= width ? text : text + std::string(width - text.size(), ' ');
}

std::string pad_left(const std::string& text, std::size_t width) {
  return text.size() >= width ? text : std::string(width - text.size(), ' ') + text;
}

std::string with_commas(double value) {
  std::string digits = format("%.0f", value);
  std::string out;
  int count = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (count > 0 && count % 3 == 0 && *it != '-') out.insert(out.begin(), ',');
    out.insert(out.begin(), *it);
    ++count;
  }
  return out;
}

std::string link_line(const GroupLink& link) {
  if (link.size <= 1) return "1 rank (nothing moves)";
  return link.describe() + ": " + format("%.3g GB/s", link.bandwidth / 1e9) + ", " +
         format_seconds(link.latency) + " a step";
}

std::string percent(double fraction) {
  return format(fraction < 0.1 ? "%.1f%%" : "%.0f%%", 100.0 * fraction);
}

}  // namespace

std::string format_bytes(double bytes) {
  const double a = std::fabs(bytes);
  if (a >= 1024.0 * 1024.0 * 1024.0) return format("%.2f GiB", bytes / (1024.0 * 1024.0 * 1024.0));
  if (a >= 1024.0 * 1024.0) return format("%.2f MiB", bytes / (1024.0 * 1024.0));
  if (a >= 1024.0) return format("%.1f KiB", bytes / 1024.0);
  return format("%.0f B", bytes);
}

std::string format_seconds(double seconds) {
  const double a = std::fabs(seconds);
  if (a >= 2.0 * 86400.0) return format("%.1f days", seconds / 86400.0);
  if (a >= 2.0 * 3600.0) return format("%.1f h", seconds / 3600.0);
  if (a >= 120.0) return format("%.1f min", seconds / 60.0);
  if (a >= 1.0) return format("%.3g s", seconds);
  if (a >= 1e-3) return format("%.3g ms", seconds * 1e3);
  return format("%.3g us", seconds * 1e6);
}

std::string describe_cluster(const ClusterSpec& c) {
  const AcceleratorSpec& a = c.accelerator;
  return "'" + c.name + "': " + std::to_string(c.nodes) + " node" + (c.nodes == 1 ? "" : "s") +
         " x " + std::to_string(c.devices_per_node) + " " +
         (a.name.empty() ? (a.kind == AcceleratorKind::gpu ? "GPU" : "core") : a.name) + ", " +
         a.train_dtype + " at " + format("%.4g TFLOP/s", c.train_peak_flops() / 1e12) +
         " peak, efficiency " + format("%.2f", a.compute_efficiency) + " (matrix) / " +
         format("%.2f", a.memory_efficiency) + " (element-wise)";
}

std::string format_prediction(const Prediction& p, const ClusterSpec& cluster,
                              std::optional<double> train_tokens) {
  const LayoutChoice& l = p.layout;
  std::string out;
  out += "layout: tensor " + std::to_string(l.tensor) + " (" + tensor_mode_name(l.tensor_mode) +
         ") x pipeline " + std::to_string(l.pipeline);
  if (l.pipeline > 1) {
    out += " (" + l.schedule;
    if (l.virtual_stages > 1) out += ", " + std::to_string(l.virtual_stages) + " virtual stages";
    out += ")";
  }
  out += " x data " + std::to_string(l.data) + " = " + std::to_string(l.world()) +
         " ranks; micro batch " + std::to_string(l.micro_batch) + ", " +
         std::to_string(p.microbatches) + " microbatches a step per data rank; zero " +
         std::to_string(l.zero) + "; recompute " + recompute_name(l.recompute) + "; " +
         p.precision.dtype + "\n";
  out += "placement: " + std::to_string(p.placement.ranks_per_node) + " ranks a node on " +
         std::to_string(p.placement.nodes_used) + " node" +
         (p.placement.nodes_used == 1 ? "" : "s") + ", " +
         std::to_string(p.placement.devices_per_rank) + " device" +
         (p.placement.devices_per_rank == 1 ? "" : "s") + " a rank";
  if (p.placement.oversubscription > 1.0)
    out += format(" (devices shared: %.2gx oversubscribed)", p.placement.oversubscription);
  out += "\n";
  out += "  tensor groups:   " + link_line(p.tensor_link) + "\n";
  out += "  data groups:     " + link_line(p.data_link) + "\n";
  if (l.pipeline > 1) out += "  pipeline sends:  " + link_line(p.pipeline_link) + "\n";

  const MemoryBreakdown& m = p.peak;
  out += "\nmemory per device (pipeline rank " + std::to_string(m.pipeline_rank) +
         ", the largest; " + format_bytes(p.device_memory) + " available):\n";
  auto row = [&](const std::string& name, double bytes, const std::string& note) {
    out += "  " + pad(name, 18) + pad_left(format_bytes(bytes), 12) +
           (note.empty() ? "" : "   " + note) + "\n";
  };
  row("parameters", m.parameters,
      with_commas(m.parameter_count) + " on this rank, " +
          format("%.0f B each", p.precision.parameter_bytes));
  row("gradients", m.gradients, format("%.0f B each", p.precision.gradient_bytes));
  row("optimizer state", m.optimizer,
      l.zero == 0 ? format("AdamW, %.0f B a parameter", p.precision.optimizer_bytes)
                  : "AdamW for 1/" + std::to_string(l.data) + " of the parameters (zero 1)");
  row("activations", m.activations,
      std::to_string(m.alive) + " microbatch" + (m.alive == 1 ? "" : "es") +
          " alive at most; one layer, one microbatch: " + format_bytes(p.per_layer_activation) +
          " (Korthikanti et al.: " + format_bytes(p.published_layer_activation) + ")");
  row("other", m.other, "token and target ids of the step");
  row("total", m.total(), p.fits ? "fits" : "DOES NOT FIT");
  if (p.memory.size() > 1) {
    out += "  per pipeline rank:";
    for (const MemoryBreakdown& r : p.memory) {
      out += ' ';
      out += std::to_string(r.pipeline_rank);
      out += ": " + format_bytes(r.total()) + ";";
    }
    out.back() = '\n';
  }

  const TimeBreakdown& t = p.time;
  out += "\nstep time:\n";
  auto trow = [&](const std::string& name, double seconds, const std::string& note) {
    out += "  " + pad(name, 26) + pad_left(format_seconds(seconds), 11) +
           (note.empty() ? "" : "   " + note) + "\n";
  };
  trow("forward / microbatch", t.forward, "slowest stage, tensor collectives included");
  trow("backward / microbatch", t.backward, "");
  trow("compute", t.compute, "the busiest rank's matrix and element-wise work in a step");
  trow("tensor-parallel comm", t.tensor_comm, "its tensor-parallel collectives");
  trow("pipeline bubble", t.bubble,
       l.pipeline > 1 ? "bubble ratio " + format("%.3f", p.bubble_ratio) + "; a send " +
                            format_seconds(t.pipeline_message)
                      : "");
  trow("data-parallel reduction", t.data_comm,
       format_seconds(t.data_comm_exposed) + " of it exposed");
  trow("optimizer", t.optimizer, l.zero == 0 ? "" : "with zero 1's all-gather");
  trow("synchronisation", t.synchronisation, "tied table, loss / norm / memory all-reduces");
  if (t.shared_devices > 0)
    trow("shared devices", t.shared_devices, "ranks taking turns on the devices");
  trow("step", t.step, "");
  out += "\nthroughput: " + with_commas(p.tokens_per_s) + " tokens/s, " +
         format("%.3g", p.tflops_per_device) + " TFLOP/s per device (model FLOPs), MFU " +
         percent(p.mfu) + " of " + format("%.4g TFLOP/s", cluster.train_peak_flops() / 1e12) + " " +
         p.precision.dtype + " peak\n";
  if (train_tokens) {
    out += "time to train " + format("%.3g", *train_tokens) +
           " tokens: " + format_seconds(*train_tokens / p.tokens_per_s) + " (" +
           format("%.0f", std::ceil(*train_tokens / p.tokens_per_step)) + " steps)\n";
  }
  return out;
}

std::string format_search(const SearchResult& r, const ClusterSpec& cluster, int top) {
  std::string out;
  out += std::to_string(r.considered) + " layouts considered: " + std::to_string(r.rejected) +
         " invalid (a rule or a plugin's check), " + std::to_string(r.too_big) +
         " over the device memory, " + std::to_string(r.ranked.size()) + " fit.\n";
  for (const std::string& note : r.notes) out += "note: " + note + "\n";
  if (r.ranked.empty()) {
    out +=
        "no layout fits; try [optim] zero = 1, --recompute full, more devices, or a smaller "
        "micro batch\n";
    return out;
  }
  out += "\n" + pad("#", 4) + pad("layout", 44) + pad_left("memory", 11) + pad_left("step", 11) +
         pad_left("tokens/s", 13) + pad_left("TFLOP/s", 9) + pad_left("MFU", 6) +
         pad_left("bubble", 9) + pad_left("tp comm", 11) + pad_left("dp exposed", 12) + "\n";
  const int shown = std::min<int>(top, static_cast<int>(r.ranked.size()));
  for (int i = 0; i < shown; ++i) {
    const Prediction& p = r.ranked[static_cast<std::size_t>(i)];
    out += pad(std::to_string(i + 1), 4) + pad(p.layout.describe(), 44) +
           pad_left(format_bytes(p.peak.total()), 11) + pad_left(format_seconds(p.time.step), 11) +
           pad_left(with_commas(p.tokens_per_s), 13) +
           pad_left(format("%.3g", p.tflops_per_device), 9) + pad_left(percent(p.mfu), 6) +
           pad_left(format_seconds(p.time.bubble), 9) +
           pad_left(format_seconds(p.time.tensor_comm), 11) +
           pad_left(format_seconds(p.time.data_comm_exposed), 12) + "\n";
  }
  for (int i = 0; i < shown; ++i) {
    out += "\n--- #" + std::to_string(i + 1) + " ---\n";
    out += format_prediction(r.ranked[static_cast<std::size_t>(i)], cluster, std::nullopt);
  }
  return out;
}

std::string format_link_fit(const LinkFit& fit, const std::string& link_name) {
  return "[" + link_name + "] from " + std::to_string(fit.rows) + " trellis-bench rows: latency " +
         format_seconds(fit.latency) + " a step, bandwidth " +
         format("%.3g GB/s", fit.bandwidth / 1e9) + "; fitted times off by a factor " +
         format("%.2f", fit.large_error_factor) + " (rms) on the " +
         std::to_string(fit.large_rows) + " rows of >= 1 MiB, " +
         format("%.2f", fit.all_error_factor) + " on all\n";
}

std::string format_compute_fit(const ComputeFit& fit, const std::vector<MeasuredRun>& runs) {
  std::string out = "[accelerator] from " + std::to_string(runs.size()) + " run" +
                    (runs.size() == 1 ? "" : "s") + ": compute_efficiency " +
                    format("%.3f", fit.compute_efficiency) + ", memory_efficiency " +
                    format("%.3f", fit.memory_efficiency) + "\n";
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const double predicted = fit.predicted_seconds[i], measured = runs[i].step_seconds;
    out += "  " + runs[i].label + ": step " + format_seconds(measured) + " measured, " +
           format_seconds(predicted) + " predicted (" +
           format("%+.1f%%", 100.0 * (predicted / measured - 1.0)) + ")\n";
  }
  return out;
}

}  // namespace trellis::plan
