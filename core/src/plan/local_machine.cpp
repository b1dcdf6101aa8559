#include "plan/local_machine.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "device/cpu_features.h"
#include "device/loaded_openblas.h"
#include "kernels/cpu/cpu_kernels.h"
#include "train/mfu_peak.h"

namespace trellis::plan {

namespace {

// Bytes a second one core moves copying 64 MiB (read + write), best of a few.
double copy_bandwidth() {
  const std::size_t n = 64u << 20;
  std::vector<char> a(n, 1), b(n, 2);
  double best = 1e30;
  for (int i = 0; i < 5; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    std::memcpy(b.data(), a.data(), n);
    best = std::min(best,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    a[static_cast<std::size_t>(i)] = b[n - 1];  // keep the copies observable
  }
  return 2.0 * static_cast<double>(n) / best;
}

}  // namespace

ClusterSpec probe_local_machine() {
  ClusterSpec c;
  // One core's peak as trellis-train finds a rank's (train/mfu_peak.h): the calibration of one
  // thread when trellis-bench peak made one, else a probe.
  std::shared_ptr<Kernels> kernels = make_cpu_kernels(1);
  MfuPeakRequest request;
  request.calibration =
      PeakKey{CpuFeatures::of_this_cpu().model, LoadedOpenBlas::of_this_process().core, 1};
  request.probe = [&kernels](double seconds) {
    return measure_sgemm_peak(*kernels, make_cpu_allocator(), seconds);
  };
  const MfuPeak peak = choose_mfu_peak(request);
  c.name = std::string("this machine (probed; sgemm peak from the ") +
           (peak.source == MfuPeak::Source::calibration ? "calibration" : "probe") + ")";
  c.nodes = 1;
  c.devices_per_node = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  AcceleratorSpec& a = c.accelerator;
  a.kind = AcceleratorKind::cpu;
  a.name = "CPU core";
  a.train_dtype = "fp32";
  a.peak_flops["fp32"] = peak.flops_per_s;
  const double memory =
      static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGE_SIZE));
  a.memory_bytes = memory / c.devices_per_node;
  a.memory_bandwidth = copy_bandwidth();
  c.intra_node = {a.memory_bandwidth / 2.0, 5e-6, 1.0};
  c.inter_node = {1.25e9, 50e-6, 1.0};  // 10 Gb/s Ethernet, should there be a second node
  return c;
}

}  // namespace trellis::plan
