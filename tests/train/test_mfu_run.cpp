// The MFU of trellis-train as a user sees it: `trellis-bench peak` writes a calibration that the
// trainer then uses; [device] peak_gflops is used as given; without either, a probe; and a peak
// that steps outrun is raised so that MFU never exceeds 1. The metrics say which peak, every step.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/corpus.h"
#include "support/process.h"

namespace fs = std::filesystem;
using trellis::test::ProcessResult;
using trellis::test::run_process;
using trellis::test::run_trellis_train;

namespace {

using Env = std::map<std::string, std::optional<std::string>>;

fs::path write_config(const fs::path& dir, const std::string& device) {
  trellis::test::write_fox_corpus(dir / "corpus.txt");
  const fs::path config = dir / "run.toml";
  std::ofstream(config) << "[run]\nname = \"mfu\"\nsteps = 4\nout_dir = \"out\"\n"
                        << "[data]\ntrain = \"corpus.txt\"\n"
                        << "[model]\nvocab_size = 256\nseq_len = 32\nlayers = 2\nheads = 2\n"
                        << "hidden = 32\n"
                        << "[train]\nmicro_batch = 4\nglobal_batch = 4\n"
                        << "[device]\nthreads = 1\n"
                        << device;
  return config;
}

// A number or a string field of a metrics line.
std::string field(const std::string& line, const std::string& name) {
  const std::size_t at = line.find("\"" + name + "\":");
  if (at == std::string::npos) return "";
  const std::size_t start = at + name.size() + 3;
  if (line[start] == '"') return line.substr(start + 1, line.find('"', start + 1) - start - 1);
  return line.substr(start, line.find_first_of(",}", start) - start);
}

std::vector<std::string> metrics_lines(const fs::path& dir) {
  std::ifstream in(dir / "out" / "metrics.jsonl");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The run's environment: a cache directory of its own, and the OpenBLAS kernels of this process.
Env cache_env(const fs::path& dir) {
  return {{"XDG_CACHE_HOME", (dir / "cache").string()}};
}

}  // namespace

TEST_CASE("trellis-bench peak writes the calibration trellis-train then measures MFU against") {
  const fs::path dir = trellis::test::empty_dir(TRELLIS_TEST_WORK_DIR, "mfu_calibration");
  const ProcessResult bench = run_process(
      {TRELLIS_BENCH_BINARY, "peak", "--threads", "1", "--seconds", "1"}, cache_env(dir));
  INFO(bench.output);
  REQUIRE(bench.exit_code == 0);
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir / "cache" / "trellis" / "peak"))
    files.push_back(entry.path());
  REQUIRE(files.size() == 1);
  CHECK(files[0].filename().string().ends_with("--threads1.toml"));
  std::ifstream in(files[0]);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t at = text.find("peak_gflops = ");
  REQUIRE(at != std::string::npos);
  const double gflops = std::stod(text.substr(at + 14));
  CHECK(gflops > 0.0);

  const ProcessResult r = run_trellis_train({write_config(dir, "").string()}, cache_env(dir));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("the MFU reference (calibration: trellis-bench peak for ") !=
        std::string::npos);
  const std::vector<std::string> lines = metrics_lines(dir);
  REQUIRE(lines.size() == 4);
  for (const std::string& line : lines) {
    INFO(line);
    const double mfu = std::stod(field(line, "mfu"));
    CHECK(mfu > 0.0);
    CHECK(mfu <= 1.0);
    // Until a step outruns it, the peak is the calibration's, as the file has it.
    if (field(line, "peak_source") == "calibration") {
      CHECK(std::stod(field(line, "peak_gflops")) == doctest::Approx(gflops).epsilon(1e-5));
    } else {
      CHECK(field(line, "peak_source") == "achieved");
    }
  }
  CHECK(field(lines[0], "peak_source") != "probe");

  // Bad arguments: exit 2, the problem named.
  for (const std::vector<std::string>& args : {std::vector<std::string>{"--threads", "0"},
                                               {"--seconds", "0.5"},
                                               {"--blas-core", "Pentium"},
                                               {"--thread", "1"}}) {
    std::vector<std::string> argv = {TRELLIS_BENCH_BINARY, "peak"};
    argv.insert(argv.end(), args.begin(), args.end());
    const ProcessResult bad = run_process(argv, cache_env(dir));
    INFO(bad.output);
    CHECK(bad.exit_code == 2);
    CHECK(bad.output.find(args[0]) != std::string::npos);
  }
}

TEST_CASE("[device] peak_gflops is the peak; one that steps outrun is raised, MFU at most 1") {
  const fs::path dir = trellis::test::empty_dir(TRELLIS_TEST_WORK_DIR, "mfu_config");
  // A peak far above any CPU's: used as given.
  ProcessResult r =
      run_trellis_train({write_config(dir, "peak_gflops = 1e6\n").string()}, cache_env(dir));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("peak: 1000000.0 GFLOP/s per rank, the MFU reference (config: [device] "
                      "peak_gflops, ") != std::string::npos);
  for (const std::string& line : metrics_lines(dir)) {
    CHECK(field(line, "peak_source") == "config");
    CHECK(std::stod(field(line, "peak_gflops")) == 1e6);
  }

  // A peak every step outruns: raised to the rate reached, said once, MFU 1 at such steps.
  r = run_trellis_train({write_config(dir, "peak_gflops = 1e-6\n").string()}, cache_env(dir));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const std::string notice = "peak: step 1 reached ";
  CHECK(r.output.find(notice) != std::string::npos);
  CHECK(r.output.find("above the peak of 0.0 GFLOP/s (config), which was therefore too low") !=
        std::string::npos);
  CHECK(r.output.find(" above the peak of ", r.output.find(notice) + notice.size() + 60) ==
        std::string::npos);
  const std::vector<std::string> lines = metrics_lines(dir);
  REQUIRE(lines.size() == 4);
  CHECK(std::stod(field(lines[0], "mfu")) == 1.0);
  double raised = 0.0;
  for (const std::string& line : lines) {
    INFO(line);
    CHECK(field(line, "peak_source") == "achieved");
    CHECK(std::stod(field(line, "mfu")) <= 1.0);
    const double peak = std::stod(field(line, "peak_gflops"));
    CHECK(peak >= raised);  // raised, never lowered
    raised = peak;
  }
}

TEST_CASE("without a calibration, a probe of a second at start-up, named in the line") {
  const fs::path dir = trellis::test::empty_dir(TRELLIS_TEST_WORK_DIR, "mfu_probe");
  const ProcessResult r = run_trellis_train({write_config(dir, "").string()}, cache_env(dir));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("the MFU reference (probe: sgemm for ") != std::string::npos);
  CHECK(r.output.find("trellis-bench peak makes one") != std::string::npos);
  const std::string first = metrics_lines(dir).at(0);
  CHECK((field(first, "peak_source") == "probe" || field(first, "peak_source") == "achieved"));
}
