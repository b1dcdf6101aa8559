#include "peak_run.h"

#include <cstdio>

#include "device/cpu_features.h"
#include "device/peak_calibration.h"
#include "device/sgemm_peak.h"
#include "kernels/cpu/cpu_kernels.h"
#include "launch/launcher.h"
#include "launch/openblas_reexec.h"

namespace trellis::bench {

int run_peak_bench(const PeakBenchOptions& options, char** argv) {
  const OpenBlasInEffect blas =
      use_openblas_core(BlasCoreSetting::parse(options.blas_core, "--blas-core"), argv);
  std::printf("%s\n", blas.line().c_str());
  std::vector<int> counts = options.threads;
  if (counts.empty()) {
    counts.push_back(1);
    if (available_cores() > 1) counts.push_back(available_cores());
  }
  const auto allocator = make_cpu_allocator();
  for (int threads : counts) {
    const std::shared_ptr<Kernels> kernels = make_cpu_kernels(threads);
    const SgemmPeak peak = measure_sgemm_peak(*kernels, allocator, options.seconds);
    const PeakKey key{blas.cpu.model, blas.state.openblas.core, kernels->threads()};
    std::printf("%s (%.1f s):\n", key.text().c_str(), peak.seconds);
    for (const SgemmRate& r : peak.rates) {
      std::printf("  %-40s %8.1f GFLOP/s  (%lld products)\n", r.shape.name.c_str(),
                  r.flops_per_s / 1e9, static_cast<long long>(r.products));
    }
    const PeakCalibration written = write_peak_calibration(key, peak);
    std::printf("  %-40s %8.1f GFLOP/s  -> %s\n", "peak", peak.flops_per_s / 1e9,
                written.file.c_str());
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace trellis::bench
