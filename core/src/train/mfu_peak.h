// The peak MFU is measured against: one rank's FLOP/s, where the figure came from, and the rule
// that keeps MFU at or below 100%.
//
// Sources, the first that applies:
//   config       [device] peak_gflops > 0 (e.g. a GPU's datasheet figure);
//   calibration  the figure `trellis-bench peak` cached for this CPU model, OpenBLAS kernels and
//                thread count (device/peak_calibration.h);
//   probe        a sgemm probe of at least a second at start-up (device/sgemm_peak.h).
// Rank 0 decides and alone reports MFU, so every figure of a run is against one peak (before,
// each rank probed at once and the ranks' probes disturbed each other: 4-35 GFLOP/s on one
// machine, MFU 21-170%).
//
// A step whose model FLOPs per second per rank exceed the peak shows that the peak was too low
// (a probe disturbed by other processes, a datasheet figure for another precision): the peak
// becomes the rate achieved (source "achieved"), that step's MFU is 100%, and the trainer says
// so once. MFU therefore never exceeds 100% and stays comparable from step to step.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "device/peak_calibration.h"
#include "device/sgemm_peak.h"

namespace trellis {

struct MfuPeak {
  enum class Source : unsigned char { config, calibration, probe, achieved };
  double flops_per_s = 0.0;  // of one rank
  Source source = Source::probe;
  std::string detail;  // where it came from, for the start-up line

  // "config", "calibration", "probe", "achieved": the metrics' peak_source.
  const char* source_name() const;
  // "peak: 231.5 GFLOP/s per rank (calibration: FILE, measured ...): the MFU reference".
  std::string line() const;
};

struct MfuPeakRequest {
  double config_gflops = 0.0;  // [device] peak_gflops
  std::string config_where;    // where it was set ("configs/x.toml:12"), for the line
  // The calibration to look for; nullopt where none applies (a GPU).
  std::optional<PeakKey> calibration;
  double probe_seconds = 1.0;
  std::function<SgemmPeak(double seconds)> probe;  // measures this rank's products
};

MfuPeak choose_mfu_peak(const MfuPeakRequest& request);

// MFU step by step against a peak that is raised where a step outruns it.
class MfuMeter {
 public:
  MfuMeter(MfuPeak peak, int ranks) : peak_(std::move(peak)), ranks_(ranks) {}

  // The MFU of step `step`: `model_flops` done by all ranks in `seconds`.
  double utilization(double model_flops, double seconds, std::int64_t step);
  // The message of the first raise, once; nullopt otherwise.
  std::optional<std::string> take_notice();
  const MfuPeak& peak() const { return peak_; }

 private:
  MfuPeak peak_;
  int ranks_;
  std::optional<std::string> notice_;
  bool noticed_ = false;
};

}  // namespace trellis
