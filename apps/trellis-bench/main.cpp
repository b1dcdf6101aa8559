// trellis-bench comm ...: communication backends measured with nccl-tests' columns
// (comm_options.cpp has the usage). A thin main: parse, then either launch the ranks
// (comm_launch.h) or be one of them (comm_rank.h).
// trellis-bench peak ...: the sgemm peak of one rank, cached as trellis-train's MFU reference
// (peak_options.cpp has the usage, peak_run.h runs it).
//
// Exit codes: 0 success; 1 a run failed or found wrong results; 2 bad arguments.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "comm_launch.h"
#include "comm_options.h"
#include "comm_rank.h"
#include "config/run_environment.h"
#include "launch/rank_environment.h"
#include "peak_options.h"
#include "peak_run.h"
#include "trellis/error.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitBadInput = 2;

constexpr const char* kUsage =
    "usage: trellis-bench comm --backend B[,B2...] --nproc N --op OP -b MIN -e MAX [...]\n"
    "       trellis-bench comm --help    for every option\n"
    "       trellis-bench peak [--threads N[,N...]] [--seconds S] [--blas-core CORE]\n";

int run_comm(const std::vector<std::string>& words) {
  trellis::bench::CommBenchOptions options;
  try {
    options = trellis::bench::parse_comm_options(words);
  } catch (const trellis::InputError& e) {
    std::cerr << "trellis-bench comm: " << e.what() << "\n\n" << trellis::bench::kCommUsage;
    return kExitBadInput;
  }
  if (options.help) {
    std::cout << trellis::bench::kCommUsage;
    return kExitOk;
  }
  const trellis::RunEnvironment process = trellis::RunEnvironment::from_process();
  const bool under_launcher = process.launcher_world.has_value();
  if (!under_launcher && options.nproc > 1) {
    trellis::bench::check_backends_exist(options, process);
    std::error_code ec;
    std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
    if (ec) throw trellis::Error("cannot find this executable (/proc/self/exe): " + ec.message());
    return trellis::bench::launch_comm_bench(options, self);
  }
  const trellis::RankEnvironment environment = trellis::RankEnvironment::detect(process.lookup());
  return trellis::bench::run_comm_rank(options, process, environment);
}

int run_peak(const std::vector<std::string>& words, char** argv) {
  trellis::bench::PeakBenchOptions options;
  try {
    options = trellis::bench::parse_peak_options(words);
  } catch (const trellis::InputError& e) {
    std::cerr << "trellis-bench peak: " << e.what() << "\n\n" << trellis::bench::kPeakUsage;
    return kExitBadInput;
  }
  if (options.help) {
    std::cout << trellis::bench::kPeakUsage;
    return kExitOk;
  }
  return trellis::bench::run_peak_bench(options, argv);
}

int run(int argc, char** argv) {
  const std::vector<std::string> words(argv + 1, argv + argc);
  if (words.empty() || words[0] == "--help" || words[0] == "-h") {
    (words.empty() ? std::cerr : std::cout) << kUsage;
    return words.empty() ? kExitBadInput : kExitOk;
  }
  if (words[0] == "comm") return run_comm({words.begin() + 1, words.end()});
  if (words[0] == "peak") return run_peak({words.begin() + 1, words.end()}, argv);
  std::cerr << "trellis-bench: unknown benchmark '" << words[0] << "'; valid: comm, peak\n"
            << kUsage;
  return kExitBadInput;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const trellis::InputError& e) {
    std::cerr << "trellis-bench: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const trellis::Error& e) {
    std::cerr << "trellis-bench: " << e.what() << "\n";
    return kExitFailure;
  } catch (const std::exception& e) {
    std::cerr << "trellis-bench: internal error: " << e.what() << "\n";
    return kExitFailure;
  }
}
