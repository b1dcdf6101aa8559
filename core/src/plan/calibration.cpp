#include "plan/calibration.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "trellis/error.h"

namespace trellis::plan {

LinkFit fit_link(const std::vector<CommMeasurement>& rows) {
  std::vector<const CommMeasurement*> small, large;
  for (const CommMeasurement& r : rows) {
    if (r.bytes <= kLatencyRowBytes) small.push_back(&r);
    if (r.bytes >= kBandwidthRowBytes) large.push_back(&r);
  }
  if (small.empty() || large.empty()) {
    throw InputError(
        "a link fit needs small rows (<= 4 KiB: the latency) and large ones (>= 1 "
        "MiB: the bandwidth); run trellis-bench comm with -b 8 -e 64M");
  }
  // Latency: what a small message costs a step, the bandwidth term being negligible there.
  std::vector<double> per_step;
  for (const CommMeasurement* r : small)
    per_step.push_back(r->seconds / alpha_steps(r->op, r->nranks));
  std::sort(per_step.begin(), per_step.end());
  LinkFit fit;
  fit.latency = per_step[per_step.size() / 2];
  // Bandwidth: minimise the squared log ratio of predicted to measured time over the large
  // rows (log: a row twice too slow weighs what one twice too fast does), by golden-section
  // search on log(bandwidth) from 1 MB/s to 100 TB/s.
  auto misfit = [&](double log_bandwidth) {
    const double bandwidth = std::exp(log_bandwidth);
    double sum = 0.0;
    for (const CommMeasurement* r : large) {
      const double predicted =
          collective_seconds(r->op, r->nranks, r->bytes, fit.latency, bandwidth);
      sum += std::pow(std::log(predicted / r->seconds), 2);
    }
    return sum;
  };
  double lo = std::log(1e6), hi = std::log(1e14);
  for (int iteration = 0; iteration < 100; ++iteration) {
    const double x1 = hi - 0.618 * (hi - lo), x2 = lo + 0.618 * (hi - lo);
    if (misfit(x1) < misfit(x2))
      hi = x2;
    else
      lo = x1;
  }
  fit.bandwidth = std::exp(0.5 * (lo + hi));
  fit.rows = static_cast<int>(rows.size());
  fit.large_rows = static_cast<int>(large.size());
  auto rms_log = [&](const std::vector<const CommMeasurement*>& some) {
    double sum = 0.0;
    for (const CommMeasurement* r : some) {
      const double predicted =
          collective_seconds(r->op, r->nranks, r->bytes, fit.latency, fit.bandwidth);
      sum += std::pow(std::log(predicted / r->seconds), 2);
    }
    return std::exp(std::sqrt(sum / static_cast<double>(some.size())));
  };
  std::vector<const CommMeasurement*> all;
  for (const CommMeasurement& r : rows) all.push_back(&r);
  fit.large_error_factor = rms_log(large);
  fit.all_error_factor = rms_log(all);
  return fit;
}

namespace {

double objective(const std::vector<MeasuredRun>& runs, ClusterSpec& cluster, double compute,
                 double memory, std::vector<double>* predicted) {
  cluster.accelerator.compute_efficiency = compute;
  cluster.accelerator.memory_efficiency = memory;
  double sum = 0.0;
  if (predicted) predicted->clear();
  for (const MeasuredRun& run : runs) {
    const double seconds = predict(run.request, cluster).time.step;
    if (predicted) predicted->push_back(seconds);
    sum += std::pow(std::log(seconds / run.step_seconds), 2);
  }
  return sum;
}

}  // namespace

ComputeFit fit_compute(const std::vector<MeasuredRun>& runs, const ClusterSpec& base) {
  if (runs.empty()) throw InputError("no trellis-train runs to fit the compute efficiency to");
  ClusterSpec cluster = base;
  // Search in log space: efficiencies from 1% to 100%. With one run, only the common scale of
  // the two moves (the description's ratio is kept); with more, both.
  const double lo = std::log(0.01), hi = 0.0;
  double best_c = std::log(base.accelerator.compute_efficiency);
  double best_m = std::log(base.accelerator.memory_efficiency);
  if (runs.size() == 1) {
    const double ratio = best_m - best_c;
    double a = lo - std::min(0.0, ratio), b = hi - std::max(0.0, ratio);
    for (int iteration = 0; iteration < 60; ++iteration) {  // golden-section on the scale
      const double x1 = b - 0.618 * (b - a), x2 = a + 0.618 * (b - a);
      const double f1 = objective(runs, cluster, std::exp(x1), std::exp(x1 + ratio), nullptr);
      const double f2 = objective(runs, cluster, std::exp(x2), std::exp(x2 + ratio), nullptr);
      if (f1 < f2)
        b = x2;
      else
        a = x1;
    }
    best_c = 0.5 * (a + b);
    best_m = best_c + ratio;
  } else {
    // Nelder-Mead on (log compute, log memory), kept inside [1%, 100%]: the objective is
    // smooth and each evaluation predicts every run, so a simplex beats a grid.
    auto f = [&](const std::array<double, 2>& x) {
      return objective(runs, cluster, std::exp(std::clamp(x[0], lo, hi)),
                       std::exp(std::clamp(x[1], lo, hi)), nullptr);
    };
    std::array<std::array<double, 2>, 3> simplex = {
        std::array<double, 2>{best_c, best_m}, {best_c - 0.5, best_m}, {best_c, best_m - 0.5}};
    std::array<double, 3> value = {f(simplex[0]), f(simplex[1]), f(simplex[2])};
    for (int iteration = 0; iteration < 200; ++iteration) {
      std::array<int, 3> order = {0, 1, 2};
      std::sort(order.begin(), order.end(), [&](int a, int b) { return value[a] < value[b]; });
      const auto& good = simplex[order[0]];
      const auto& mid = simplex[order[1]];
      auto& worst = simplex[order[2]];
      if (value[order[2]] - value[order[0]] < 1e-12) break;
      const std::array<double, 2> centre = {(good[0] + mid[0]) / 2, (good[1] + mid[1]) / 2};
      auto along = [&](double k) {
        return std::array<double, 2>{centre[0] + k * (worst[0] - centre[0]),
                                     centre[1] + k * (worst[1] - centre[1])};
      };
      const std::array<double, 2> reflected = along(-1.0);
      const double fr = f(reflected);
      if (fr < value[order[0]]) {
        const std::array<double, 2> expanded = along(-2.0);
        const double fe = f(expanded);
        worst = fe < fr ? expanded : reflected;
        value[order[2]] = std::min(fe, fr);
      } else if (fr < value[order[1]]) {
        worst = reflected;
        value[order[2]] = fr;
      } else {
        const std::array<double, 2> contracted = along(0.5);
        const double fc = f(contracted);
        if (fc < value[order[2]]) {
          worst = contracted;
          value[order[2]] = fc;
        } else {  // shrink towards the best point
          for (int k : {order[1], order[2]}) {
            simplex[k] = {(simplex[k][0] + good[0]) / 2, (simplex[k][1] + good[1]) / 2};
            value[k] = f(simplex[k]);
          }
        }
      }
    }
    const int best_index =
        static_cast<int>(std::min_element(value.begin(), value.end()) - value.begin());
    best_c = std::clamp(simplex[best_index][0], lo, hi);
    best_m = std::clamp(simplex[best_index][1], lo, hi);
  }
  ComputeFit fit;
  fit.compute_efficiency = std::exp(best_c);
  fit.memory_efficiency = std::exp(best_m);
  const double sum = objective(runs, cluster, fit.compute_efficiency, fit.memory_efficiency,
                               &fit.predicted_seconds);
  fit.rms_log_error = std::sqrt(sum / static_cast<double>(runs.size()));
  return fit;
}

}  // namespace trellis::plan
