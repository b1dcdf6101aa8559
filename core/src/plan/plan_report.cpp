#include "plan/plan_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

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
         " peak; efficiency (the share of the peak reached) " +
         format("%.2f", a.compute_efficiency) + " in matrix products, " +
         format("%.2f", a.memory_efficiency) + " of the memory bandwidth in element-wise work";
}

std::string format_prediction(const Prediction& p, const ClusterSpec& cluster,
                              std::optional<double> train_tokens) {
  const LayoutChoice& l = p.layout;
  std::string out;
  out += "layout: tensor " + std::to_string(l.tensor) + " (" + l.tensor_mode + ")";
  if (l.context > 1) out += " x context " + std::to_string(l.context) + " (" + l.context_mode + ")";
  out += " x pipeline " + std::to_string(l.pipeline);
  if (l.pipeline > 1) {
    out += " (" + l.schedule;
    if (l.virtual_stages > 1) out += ", " + std::to_string(l.virtual_stages) + " virtual stages";
    out += ")";
  }
  out += " x data " + std::to_string(l.data);
  if (l.expert > 1)
    out += " (expert " + std::to_string(l.expert) + ", " + l.expert_dispatcher + ")";
  out += " = " + std::to_string(l.world()) + (l.world() == 1 ? " rank" : " ranks") +
         "; micro batch " + std::to_string(l.micro_batch) + ", " + std::to_string(p.microbatches) +
         " microbatches a step per data rank; zero " + std::to_string(l.zero) + "; recompute " +
         describe_recompute_settings(l.recompute) + "; " + p.precision.dtype + "\n";
  out += "placement: " + std::to_string(p.placement.ranks_per_node) +
         (p.placement.ranks_per_node == 1 ? " rank" : " ranks") + " a node on " +
         std::to_string(p.placement.nodes_used) + " node" +
         (p.placement.nodes_used == 1 ? "" : "s") + ", " +
         std::to_string(p.placement.devices_per_rank) + " device" +
         (p.placement.devices_per_rank == 1 ? "" : "s") + " a rank";
  if (p.placement.oversubscription > 1.0)
    out += " (devices shared: " + format("%.2g", p.placement.oversubscription) +
           "x oversubscribed, the devices a node's ranks want over those it has)";
  out += "\n";
  out += "  tensor groups:   " + link_line(p.tensor_link) + "\n";
  if (l.context > 1) {
    out += "  context groups:  " + link_line(p.context_link) + "\n";
    out += "  data x context:  " + link_line(p.data_link) + " (the gradients' reduction)\n";
  } else {
    out += "  data groups:     " + link_line(p.data_link) + "\n";
  }
  if (l.expert > 1) {
    out += "  expert groups:   " + link_line(p.expert_link) + " (the dispatchers' collectives)\n";
    out += "  expert-data:     " + link_line(p.expert_data_link) +
           " (the experts' gradients' reduction)\n";
  }
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
          (m.expert_parameter_count > 0
               ? with_commas(m.expert_parameter_count) + " of them experts', "
               : std::string()) +
          format("%.0f B each", p.precision.parameter_bytes));
  row("gradients", m.gradients, format("%.0f B each", p.precision.gradient_bytes));
  row("optimizer state", m.optimizer,
      l.zero == 0
          ? format("AdamW, %.0f B a parameter", p.precision.optimizer_bytes)
          : "AdamW for 1/" + std::to_string(l.data * l.context) + " of the parameters (zero 1" +
                (l.context > 1 ? std::string(", over data x context)") : ")") +
                (l.expert > 1 ? ", 1/" + std::to_string(l.data / l.expert) +
                                    " of the experts' (over expert-data)"
                              : std::string()));
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
  if (l.context > 1) {
    trow("context-parallel comm", t.context_comm,
         "its context collectives that attention waits for; " +
             format_seconds(t.context_comm_hidden) + " more hidden behind attention");
  }
  if (l.expert > 1) {
    trow("expert-parallel comm", t.expert_comm,
         "its dispatchers' collectives (" + l.expert_dispatcher + ") over the expert group");
  }
  trow("pipeline bubble", t.bubble,
       l.pipeline > 1 ? "bubble ratio " + format("%.3f", p.bubble_ratio) +
                            " (idle over compute, in the simulated schedule); a send " +
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
         percent(p.mfu) + " (that TFLOP/s over the " +
         format("%.4g TFLOP/s", cluster.train_peak_flops() / 1e12) + " " + p.precision.dtype +
         " peak)\n";
  if (train_tokens) {
    out += "time to train " + format("%.3g", *train_tokens) +
           " tokens: " + format_seconds(*train_tokens / p.tokens_per_s) + " (" +
           format("%.0f", std::ceil(*train_tokens / p.tokens_per_step)) + " steps)\n";
  }
  return out;
}

namespace {

// A row of the search table after its number and layout: what decides whether two rows are the
// same.
std::vector<std::string> search_cells(const Prediction& p) {
  return {format_bytes(p.peak.total()),
          format_seconds(p.time.step),
          with_commas(p.tokens_per_s),
          format("%.3g", p.tflops_per_device),
          percent(p.mfu),
          format_seconds(p.time.bubble),
          format_seconds(p.time.tensor_comm),
          format_seconds(p.time.data_comm_exposed)};
}

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = std::min(text.find(' ', start), text.size());
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// The layouts of one row: word by word with the words that differ joined by '/' ("t1 p2 d2
// gpipe/interleaved 1d mb4") when they have as many words, else listed ("a = b").
std::string merged_layouts(const std::vector<std::string>& layouts) {
  std::vector<std::vector<std::string>> split;
  for (const std::string& l : layouts) split.push_back(words(l));
  const bool aligned = std::all_of(split.begin(), split.end(),
                                   [&](const auto& w) { return w.size() == split.front().size(); });
  std::string out;
  if (!aligned) {
    for (const std::string& l : layouts) {
      if (!out.empty()) out += " = ";
      out += l;
    }
    return out;
  }
  for (std::size_t i = 0; i < split.front().size(); ++i) {
    std::vector<std::string> alternatives;
    for (const auto& w : split) {
      if (std::find(alternatives.begin(), alternatives.end(), w[i]) == alternatives.end())
        alternatives.push_back(w[i]);
    }
    if (!out.empty()) out += ' ';
    for (std::size_t k = 0; k < alternatives.size(); ++k) {
      if (k > 0) out += '/';
      out += alternatives[k];
    }
  }
  return out;
}

}  // namespace

std::vector<SearchRow> search_rows(const SearchResult& r) {
  std::vector<SearchRow> rows;
  std::map<std::vector<std::string>, std::size_t> row_of;
  for (std::size_t i = 0; i < r.ranked.size(); ++i) {
    const auto [at, added] = row_of.emplace(search_cells(r.ranked[i]), rows.size());
    if (added) rows.push_back({{}, at->first});
    rows[at->second].predictions.push_back(i);
  }
  return rows;
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
  const std::vector<SearchRow> rows = search_rows(r);
  out += "\n" + pad("#", 4) + pad("layout", 44) + pad_left("memory", 11) + pad_left("step", 11) +
         pad_left("tokens/s", 13) + pad_left("TFLOP/s", 9) + pad_left("MFU", 6) +
         pad_left("bubble", 9) + pad_left("tp comm", 11) + pad_left("dp exposed", 12) + "\n";
  const std::size_t shown = std::min<std::size_t>(static_cast<std::size_t>(top), rows.size());
  std::vector<std::string> layouts_of(shown);
  bool merged = false;
  for (std::size_t i = 0; i < shown; ++i) {
    std::vector<std::string> layouts;
    for (std::size_t k : rows[i].predictions) layouts.push_back(r.ranked[k].layout.describe());
    layouts_of[i] = merged_layouts(layouts);
    merged = merged || layouts.size() > 1;
    const std::vector<std::string>& c = rows[i].cells;
    out += pad(std::to_string(i + 1), 4) + pad(layouts_of[i], 44) + pad_left(c[0], 11) +
           pad_left(c[1], 11) + pad_left(c[2], 13) + pad_left(c[3], 9) + pad_left(c[4], 6) +
           pad_left(c[5], 9) + pad_left(c[6], 11) + pad_left(c[7], 12) + "\n";
  }
  out +=
      "\ncolumns: memory = the fullest device's peak; step = one optimizer step; tokens/s = "
      "the whole run's;\n  TFLOP/s = model FLOPs a second per device; MFU = that TFLOP/s over "
      "the device's ";
  out += format("%.4g", cluster.train_peak_flops() / 1e12);
  out += " TFLOP/s " + cluster.accelerator.train_dtype + " peak;\n";
  out +=
      "  bubble = a step's pipeline idle time beyond the busiest rank's work; tp comm = the "
      "busiest rank's\n  tensor-parallel collectives a step; dp exposed = the data-parallel "
      "reduction not hidden behind backward\n";
  if (merged) {
    out +=
        "Layouts predicted the same in every column share a row: a/b marks where they "
        "differ.\n";
  }
  for (std::size_t i = 0; i < shown; ++i) {
    out += "\n--- #" + std::to_string(i + 1) + " ---";
    if (rows[i].predictions.size() > 1) {
      out += " (";
      out += layouts_of[i];
      out += ": the first shown)";
    }
    out += '\n';
    out += format_prediction(r.ranked[rows[i].predictions.front()], cluster, std::nullopt);
  }
  return out;
}

std::string format_link_fit(const LinkFit& fit, const std::string& link_name) {
  return "[" + link_name + "] from " + std::to_string(fit.rows) + " trellis-bench rows: latency " +
         format_seconds(fit.latency) + " a step, bandwidth " +
         format("%.3g GB/s", fit.bandwidth / 1e9) + "; fitted times off by a factor " +
         format("%.2f", fit.large_error_factor) +
         " (exp of the rms of log(fitted / measured); 1.2: 20% either way) on the " +
         std::to_string(fit.large_rows) + " rows of >= 1 MiB, " +
         format("%.2f", fit.all_error_factor) + " on all\n";
}

std::string format_compute_fit(const ComputeFit& fit, const std::vector<MeasuredRun>& runs) {
  std::string out = "[accelerator] from " + std::to_string(runs.size()) + " run" +
                    (runs.size() == 1 ? "" : "s") + ": compute_efficiency " +
                    format("%.3f", fit.compute_efficiency) + ", memory_efficiency " +
                    format("%.3f", fit.memory_efficiency) +
                    " (the shares of the peak FLOP/s and of the memory bandwidth reached)\n";
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const double predicted = fit.predicted_seconds[i], measured = runs[i].step_seconds;
    out += "  " + runs[i].label + ": step " + format_seconds(measured) + " measured, " +
           format_seconds(predicted) + " predicted (" +
           format("%+.1f%%", 100.0 * (predicted / measured - 1.0)) + " predicted over measured)\n";
  }
  return out;
}

}  // namespace trellis::plan
