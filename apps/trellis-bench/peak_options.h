// The command line of `trellis-bench peak`: the sgemm peak of one rank, measured per thread
// count and cached as the MFU reference of trellis-train (device/peak_calibration.h).
#pragma once

#include <string>
#include <vector>

namespace trellis::bench {

extern const char* const kPeakUsage;

struct PeakBenchOptions {
  std::vector<int> threads;  // thread counts to measure; empty: 1 and this process's cores
  double seconds = 2.0;      // per thread count, at least 1
  std::string blas_core = "auto";
  bool help = false;
};

// Parses the words after "peak"; throws InputError naming the problem (exit 2).
PeakBenchOptions parse_peak_options(const std::vector<std::string>& words);

}  // namespace trellis::bench
