// The MFU peak and its sources (train/mfu_peak.h): [device] peak_gflops, the calibration cache of
// trellis-bench peak (device/peak_calibration.h), the probe (device/sgemm_peak.h); and the cap
// that keeps MFU at or below 100%.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "device/peak_calibration.h"
#include "device/sgemm_peak.h"
#include "kernels/cpu/cpu_kernels.h"
#include "train/mfu_peak.h"
#include "train/model_flops.h"
#include "trellis/error.h"

namespace fs = std::filesystem;
using namespace trellis;

namespace {

// A cache directory of the test's own (XDG_CACHE_HOME), empty.
fs::path fresh_cache(const std::string& name) {
  const fs::path dir = fs::path(TRELLIS_TEST_WORK_DIR) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  ::setenv("XDG_CACHE_HOME", dir.c_str(), 1);
  return dir;
}

const PeakKey kKey{"Test CPU 9000", "SkylakeX", 2};

SgemmPeak measured(double gflops) {
  SgemmPeak p;
  p.flops_per_s = gflops * 1e9;
  p.seconds = 2.0;
  p.rates.push_back({sgemm_peak_shapes(64)[0], gflops * 1e9, 10});
  return p;
}

// A request whose probe counts its calls and returns `gflops`.
MfuPeakRequest request(int& probes, double gflops = 42.0) {
  MfuPeakRequest r;
  r.calibration = kKey;
  r.probe = [&probes, gflops](double seconds) {
    ++probes;
    CHECK(seconds >= 1.0);
    return measured(gflops);
  };
  return r;
}

}  // namespace

TEST_CASE("MFU is model FLOPs per second over the peak") {
  CHECK(model_flops_utilization(6e12, 2.0, 10e12) == doctest::Approx(0.3));
}

TEST_CASE("[device] peak_gflops comes first: no calibration read, no probe") {
  fresh_cache("peak_config");
  write_peak_calibration(kKey, measured(150.0));
  int probes = 0;
  MfuPeakRequest r = request(probes);
  r.config_gflops = 312.5;
  r.config_where = "run.toml:9";
  const MfuPeak p = choose_mfu_peak(r);
  CHECK(p.source == MfuPeak::Source::config);
  CHECK(std::string(p.source_name()) == "config");
  CHECK(p.flops_per_s == doctest::Approx(312.5e9));
  CHECK(probes == 0);
  CHECK(p.line() ==
        "peak: 312.5 GFLOP/s per rank, the MFU reference (config: [device] peak_gflops, "
        "run.toml:9)");
}

TEST_CASE("the calibration of this CPU, kernels and thread count comes next") {
  const fs::path cache = fresh_cache("peak_calibration");
  const PeakCalibration written = write_peak_calibration(kKey, measured(150.25));
  CHECK(written.file == cache / "trellis" / "peak" / "Test-CPU-9000--SkylakeX--threads2.toml");
  int probes = 0;
  const MfuPeak p = choose_mfu_peak(request(probes));
  CHECK(p.source == MfuPeak::Source::calibration);
  CHECK(p.flops_per_s == doctest::Approx(150.25e9));
  CHECK(probes == 0);
  CHECK(p.line().find(written.file.string()) != std::string::npos);

  // Another thread count, other kernels or another CPU have none: the probe measures.
  for (PeakKey other :
       {PeakKey{kKey.cpu_model, kKey.blas_core, 1}, PeakKey{kKey.cpu_model, "Haswell", 2},
        PeakKey{"Other CPU", "SkylakeX", 2}}) {
    INFO(other.text());
    MfuPeakRequest r = request(probes);
    r.calibration = other;
    const MfuPeak probed = choose_mfu_peak(r);
    CHECK(probed.source == MfuPeak::Source::probe);
    CHECK(probed.detail.find("no calibration for " + other.text() +
                             ": trellis-bench peak makes one") != std::string::npos);
  }
  CHECK(probes == 3);
}

TEST_CASE("without a calibration, a probe of at least a second; a bad file is named and ignored") {
  fresh_cache("peak_probe");
  int probes = 0;
  MfuPeak p = choose_mfu_peak(request(probes, 77.0));
  CHECK(p.source == MfuPeak::Source::probe);
  CHECK(p.flops_per_s == doctest::Approx(77e9));
  CHECK(probes == 1);

  const fs::path file = *peak_calibration_file(kKey);
  fs::create_directories(file.parent_path());
  std::ofstream(file) << "peak_gflops = [";
  p = choose_mfu_peak(request(probes));
  CHECK(p.source == MfuPeak::Source::probe);
  CHECK(p.detail.find("ignored " + file.string() + " is not TOML") != std::string::npos);

  std::ofstream(file, std::ios::trunc) << "cpu = \"Test CPU 9000\"\npeak_gflops = -3.0\n";
  p = choose_mfu_peak(request(probes));
  CHECK(p.source == MfuPeak::Source::probe);
  CHECK(p.detail.find("lacks cpu, openblas_core, threads or a peak_gflops > 0") !=
        std::string::npos);

  // A file of another key under this key's name (two CPU names that make one file name).
  std::ofstream(file, std::ios::trunc) << "cpu = \"Test CPU-9000\"\nopenblas_core = \"SkylakeX\"\n"
                                          "threads = 2\npeak_gflops = 100.0\n";
  p = choose_mfu_peak(request(probes));
  CHECK(p.source == MfuPeak::Source::probe);
  CHECK(p.detail.find("is the calibration of Test CPU-9000, SkylakeX kernels, 2 threads") !=
        std::string::npos);
  CHECK(probes == 4);

  // No cache directory at all (neither XDG_CACHE_HOME nor HOME): the probe.
  const std::string home = std::getenv("HOME") ? std::getenv("HOME") : "";
  ::unsetenv("XDG_CACHE_HOME");
  ::unsetenv("HOME");
  CHECK_FALSE(trellis_cache_dir());
  CHECK(choose_mfu_peak(request(probes)).source == MfuPeak::Source::probe);
  CHECK_THROWS_AS(write_peak_calibration(kKey, measured(1.0)), Error);
  if (!home.empty()) ::setenv("HOME", home.c_str(), 1);
  CHECK(trellis_cache_dir() == fs::path(home) / ".cache" / "trellis");
}

TEST_CASE("a GPU (no calibration applies) is probed unless [device] peak_gflops is set") {
  int probes = 0;
  MfuPeakRequest r = request(probes);
  r.calibration.reset();
  const MfuPeak p = choose_mfu_peak(r);
  CHECK(p.source == MfuPeak::Source::probe);
  CHECK(p.detail.find("set [device] peak_gflops") != std::string::npos);
}

TEST_CASE("MFU never exceeds 100%: a step that outruns the peak raises it, said once") {
  MfuPeak peak;
  peak.flops_per_s = 100e9;
  peak.source = MfuPeak::Source::probe;
  MfuMeter meter(peak, 4);  // 4 ranks: 400 GFLOP/s in all
  CHECK(meter.utilization(200e9, 1.0, 1) == doctest::Approx(0.5));
  CHECK_FALSE(meter.take_notice());
  CHECK(meter.peak().source == MfuPeak::Source::probe);

  // 600 GFLOP/s: 150 per rank, above the peak.
  CHECK(meter.utilization(600e9, 1.0, 2) == 1.0);
  CHECK(meter.peak().source == MfuPeak::Source::achieved);
  CHECK(std::string(meter.peak().source_name()) == "achieved");
  CHECK(meter.peak().flops_per_s == doctest::Approx(150e9));
  const auto notice = meter.take_notice();
  REQUIRE(notice);
  CHECK(notice->find("step 2 reached 150.0 GFLOP/s per rank of model FLOPs, above the peak of "
                     "100.0 GFLOP/s (probe)") != std::string::npos);
  CHECK_FALSE(meter.take_notice());

  // Later steps are measured against the raised peak; a faster one raises it again, silently.
  CHECK(meter.utilization(300e9, 1.0, 3) == doctest::Approx(0.5));
  CHECK(meter.utilization(800e9, 1.0, 4) == 1.0);
  CHECK(meter.peak().flops_per_s == doctest::Approx(200e9));
  CHECK_FALSE(meter.take_notice());
}

TEST_CASE("the probe measures every shape through the kernels for the time asked") {
  auto kernels = make_cpu_kernels(1);
  const SgemmPeak p = measure_sgemm_peak(*kernels, make_cpu_allocator(), 1.0, 256);
  CHECK(p.seconds >= 1.0);
  REQUIRE(p.rates.size() == sgemm_peak_shapes(256).size());
  double best = 0.0;
  for (const SgemmRate& r : p.rates) {
    INFO(r.shape.name);
    CHECK(r.flops_per_s > 0.0);
    CHECK(r.products >= 1);
    best = std::max(best, r.flops_per_s);
  }
  CHECK(p.flops_per_s == best);
  CHECK(sgemm_peak_shapes(256)[3].transpose_a);
  CHECK(sgemm_peak_shapes(256)[1].flops() == 2.0 * 256 * 768 * 3072);
}
