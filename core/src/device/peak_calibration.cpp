#include "device/peak_calibration.h"

#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>

#include <toml++/toml.h>

#include "text/quoted_string.h"
#include "trellis/error.h"

namespace trellis {

namespace {

// Read here rather than through RunEnvironment (config/run_environment.h): XDG_CACHE_HOME and
// HOME locate the per-user cache, which trellis-bench and trellis-plan also use outside any run.
std::optional<std::string> env_value(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

// A file name from any text: letters and digits kept, runs of anything else one '-'.
std::string file_part(const std::string& text) {
  std::string out;
  for (char ch : text) {
    if (std::isalnum(static_cast<unsigned char>(ch))) {
      out += ch;
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "unknown" : out;
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

}  // namespace

std::string PeakKey::text() const {
  return cpu_model + ", " + blas_core + " kernels, " + std::to_string(threads) +
         (threads == 1 ? " thread" : " threads");
}

std::optional<std::filesystem::path> trellis_cache_dir() {
  if (auto xdg = env_value("XDG_CACHE_HOME")) return std::filesystem::path(*xdg) / "trellis";
  if (auto home = env_value("HOME")) return std::filesystem::path(*home) / ".cache" / "trellis";
  return std::nullopt;
}

std::optional<std::filesystem::path> peak_calibration_file(const PeakKey& key) {
  const auto dir = trellis_cache_dir();
  if (!dir) return std::nullopt;
  return *dir / "peak" /
         (file_part(key.cpu_model) + "--" + file_part(key.blas_core) + "--threads" +
          std::to_string(key.threads) + ".toml");
}

std::optional<PeakCalibration> read_peak_calibration(const PeakKey& key, std::string& problem) {
  problem.clear();
  const auto file = peak_calibration_file(key);
  std::error_code ec;
  if (!file || !std::filesystem::exists(*file, ec)) return std::nullopt;
  toml::table t;
  try {
    t = toml::parse_file(file->string());
  } catch (const toml::parse_error& e) {
    problem = file->string() + " is not TOML (" + std::string(e.description()) + ")";
    return std::nullopt;
  }
  const auto cpu = t["cpu"].value<std::string>();
  const auto core = t["openblas_core"].value<std::string>();
  const auto threads = t["threads"].value<std::int64_t>();
  const auto gflops = t["peak_gflops"].value<double>();
  if (!cpu || !core || !threads || !gflops || !(*gflops > 0.0)) {
    problem = file->string() +
              " lacks cpu, openblas_core, threads or a peak_gflops > 0 (trellis-bench peak "
              "writes them)";
    return std::nullopt;
  }
  if (*cpu != key.cpu_model || *core != key.blas_core || *threads != key.threads) {
    problem = file->string() + " is the calibration of " +
              PeakKey{*cpu, *core, static_cast<int>(*threads)}.text() + ", not of " + key.text();
    return std::nullopt;
  }
  PeakCalibration c;
  c.key = key;
  c.flops_per_s = *gflops * 1e9;
  c.seconds = t["seconds"].value_or(0.0);
  c.measured = t["measured"].value_or(std::string());
  c.file = *file;
  return c;
}

PeakCalibration write_peak_calibration(const PeakKey& key, const SgemmPeak& peak) {
  const auto file = peak_calibration_file(key);
  if (!file) {
    throw Error("no cache directory for the calibration: set XDG_CACHE_HOME or HOME");
  }
  PeakCalibration c{key, peak.flops_per_s, peak.seconds, utc_now(), *file};
  std::ostringstream text;
  text << "# The sgemm peak of one rank on this machine, measured by trellis-bench peak:\n"
       << "# trellis-train's MFU reference for this CPU, OpenBLAS kernels and thread count.\n";
  for (const SgemmRate& r : peak.rates) {
    char line[160];
    std::snprintf(line, sizeof line, "#   %-40s %8.1f GFLOP/s\n", r.shape.name.c_str(),
                  r.flops_per_s / 1e9);
    text << line;
  }
  char gflops[32], seconds[32];
  std::snprintf(gflops, sizeof gflops, "%.6g", peak.flops_per_s / 1e9);
  std::snprintf(seconds, sizeof seconds, "%.2f", peak.seconds);
  text << "cpu = " << quoted_string(key.cpu_model) << "\n"
       << "openblas_core = " << quoted_string(key.blas_core) << "\n"
       << "threads = " << key.threads << "\n"
       << "peak_gflops = " << gflops << "\n"
       << "seconds = " << seconds << "\n"
       << "measured = " << quoted_string(c.measured) << "\n";
  std::error_code ec;
  std::filesystem::create_directories(file->parent_path(), ec);
  const std::filesystem::path partial = file->string() + ".partial-" + std::to_string(::getpid());
  {
    std::ofstream out(partial, std::ios::trunc);
    out << text.str();
    if (!out.flush()) {
      throw Error("cannot write the calibration " + partial.string() +
                  (ec ? ": " + ec.message() : std::string()));
    }
  }
  std::filesystem::rename(partial, *file, ec);
  if (ec) throw Error("cannot write the calibration " + file->string() + ": " + ec.message());
  return c;
}

}  // namespace trellis
