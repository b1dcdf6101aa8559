// A machine's sgemm peak, measured once by `trellis-bench peak` and cached per user, so every run
// on the machine measures its MFU against the same figure instead of a probe of its own.
//
// One small TOML file per key — CPU model, OpenBLAS kernels, threads per rank — under
// $XDG_CACHE_HOME/trellis/peak/ (~/.cache/trellis/peak/ when XDG_CACHE_HOME is unset):
//
//   cpu = "AMD EPYC"           the key, checked on reading
//   openblas_core = "SkylakeX"
//   threads = 1
//   peak_gflops = 231.5        the best shape's rate (device/sgemm_peak.h)
//   seconds = 2.0              how long it measured
//   measured = "2025-01-31T12:00:00Z"
//
// Delete the file (or run trellis-bench peak again) to measure again.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "device/sgemm_peak.h"

namespace trellis {

struct PeakKey {
  std::string cpu_model;     // CpuFeatures::model
  std::string blas_core;     // the OpenBLAS kernels that ran (openblas_get_corename)
  int threads = 1;           // threads per rank
  std::string text() const;  // "AMD EPYC, SkylakeX kernels, 1 thread"
};

struct PeakCalibration {
  PeakKey key;
  double flops_per_s = 0.0;
  double seconds = 0.0;
  std::string measured;  // UTC, ISO 8601
  std::filesystem::path file;
};

// The cache directory ($XDG_CACHE_HOME/trellis, else $HOME/.cache/trellis); nullopt when the
// environment names neither.
std::optional<std::filesystem::path> trellis_cache_dir();
// Where `key`'s calibration lives (nullopt without a cache directory).
std::optional<std::filesystem::path> peak_calibration_file(const PeakKey& key);

// The calibration of `key`, or nullopt when there is none. A file that cannot be read, is not
// such a file, or holds another key (two keys sharing a file name) counts as none, and `problem`
// says why.
std::optional<PeakCalibration> read_peak_calibration(const PeakKey& key, std::string& problem);

// Writes `key`'s calibration (replacing the file in one rename); throws Error when it cannot.
PeakCalibration write_peak_calibration(const PeakKey& key, const SgemmPeak& peak);

}  // namespace trellis
