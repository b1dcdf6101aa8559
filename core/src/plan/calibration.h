// Fitting a cluster description to measurements (trellis-plan --calibrate):
//
//  - a link's latency and bandwidth from trellis-bench comm rows (any ops and group sizes), in
//    the model of collective_cost.h:
//        time = alpha_steps(op, n) x latency + beta_factor(op, n) x bytes / bandwidth
//    The latency is the median per-step time of the rows of at most 4 KiB; the bandwidth is the
//    one that minimises the squared log ratio of predicted to measured time over the rows of at
//    least 1 MiB. Training moves activations and gradients of hundreds of KiB and more, so the
//    large rows are the ones that matter; a CPU's messages that fit in its caches move faster
//    than this bandwidth (the fit's error over all rows says by how much);
//  - the accelerator's compute_efficiency and memory_efficiency from trellis-train runs: the pair
//    that minimises the squared log ratio of predicted to measured step time over the runs. One
//    run cannot tell the two apart: it scales both, keeping the ratio the description had; two
//    runs that differ in how much of their time is element-wise (a narrow and a wide model) fix
//    both.
#pragma once

#include <string>
#include <vector>

#include "plan/bench_results.h"
#include "plan/cluster_spec.h"
#include "plan/step_prediction.h"

namespace trellis::plan {

inline constexpr double kLatencyRowBytes = 4096.0;
inline constexpr double kBandwidthRowBytes = 1024.0 * 1024.0;

struct LinkFit {
  double latency = 0.0;    // seconds
  double bandwidth = 0.0;  // bytes/s
  int rows = 0;
  int large_rows = 0;
  // The fitted times against the rows, as a factor: exp(rms of log(predicted / measured)),
  // over the large rows and over all rows (1.2: typically 20% off either way).
  double large_error_factor = 1.0;
  double all_error_factor = 1.0;
};

// Throws InputError when there are no small rows or no large rows.
LinkFit fit_link(const std::vector<CommMeasurement>& rows);

struct MeasuredRun {
  std::string label;    // the config file, for the report
  PlanRequest request;  // its plan pointer must stay valid while fitting
  double step_seconds = 0.0;
  double peak_mem_bytes = 0.0;
};

struct ComputeFit {
  double compute_efficiency = 1.0;
  double memory_efficiency = 1.0;
  std::vector<double> predicted_seconds;  // per run, with the fitted values
  double rms_log_error = 0.0;
};

// `cluster` gives everything but the two efficiencies (its values start the search).
ComputeFit fit_compute(const std::vector<MeasuredRun>& runs, const ClusterSpec& cluster);

}  // namespace trellis::plan
