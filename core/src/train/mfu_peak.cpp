#include "train/mfu_peak.h"

#include <cstdio>
#include <utility>

#include "train/model_flops.h"
#include "trellis/error.h"

namespace trellis {

namespace {

std::string gflops_text(double flops_per_s) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f GFLOP/s", flops_per_s / 1e9);
  return text;
}

}  // namespace

const char* MfuPeak::source_name() const {
  switch (source) {
    case Source::config:
      return "config";
    case Source::calibration:
      return "calibration";
    case Source::probe:
      return "probe";
    case Source::achieved:
      return "achieved";
  }
  return "probe";
}

std::string MfuPeak::line() const {
  return "peak: " + gflops_text(flops_per_s) + " per rank, the MFU reference (" + source_name() +
         ": " + detail + ")";
}

MfuPeak choose_mfu_peak(const MfuPeakRequest& request) {
  MfuPeak peak;
  if (request.config_gflops > 0.0) {
    peak.source = MfuPeak::Source::config;
    peak.flops_per_s = request.config_gflops * 1e9;
    peak.detail = "[device] peak_gflops, " + request.config_where;
    return peak;
  }
  std::string why_not;  // why no calibration applies, for the probe's line
  if (request.calibration) {
    std::string problem;
    if (auto c = read_peak_calibration(*request.calibration, problem)) {
      peak.source = MfuPeak::Source::calibration;
      peak.flops_per_s = c->flops_per_s;
      peak.detail =
          "trellis-bench peak for " + c->key.text() + ", " + c->measured + ", " + c->file.string();
      return peak;
    }
    why_not = problem.empty() ? "no calibration for " + request.calibration->text() +
                                    ": trellis-bench peak makes one"
                              : "ignored " + problem;
  } else {
    why_not = "set [device] peak_gflops for a datasheet figure";
  }
  const SgemmPeak probe = request.probe(request.probe_seconds);
  peak.source = MfuPeak::Source::probe;
  peak.flops_per_s = probe.flops_per_s;
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.1f s", probe.seconds);
  peak.detail = std::string("sgemm for ") + seconds + " at start-up; " + why_not;
  if (!(peak.flops_per_s > 0.0)) throw Error("the sgemm probe measured no rate");
  return peak;
}

double MfuMeter::utilization(double model_flops, double seconds, std::int64_t step) {
  const double per_rank = model_flops / seconds / static_cast<double>(ranks_);
  if (per_rank > peak_.flops_per_s) {
    if (!noticed_) {
      notice_ = "peak: step " + std::to_string(step) + " reached " + gflops_text(per_rank) +
                " per rank of model FLOPs, above the peak of " + gflops_text(peak_.flops_per_s) +
                " (" + peak_.source_name() +
                "), which was therefore too low: the peak is raised to what steps reach from now "
                "on (metrics: peak_source \"achieved\"); set [device] peak_gflops or run "
                "trellis-bench peak for a figure that holds";
      noticed_ = true;
    }
    peak_.flops_per_s = per_rank;
    peak_.source = MfuPeak::Source::achieved;
    peak_.detail = "the rate of step " + std::to_string(step);
  }
  return model_flops_utilization(model_flops, seconds,
                                 peak_.flops_per_s * static_cast<double>(ranks_));
}

std::optional<std::string> MfuMeter::take_notice() {
  return std::exchange(notice_, std::nullopt);
}

}  // namespace trellis
