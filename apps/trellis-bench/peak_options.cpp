#include "peak_options.h"

#include <charconv>

#include "config/flag_words.h"
#include "trellis/error.h"

namespace trellis::bench {

const char* const kPeakUsage =
    "usage: trellis-bench peak [--threads N[,N...]] [--seconds S] [--blas-core CORE]\n"
    "\n"
    "Measures the sgemm rate one rank reaches on this machine (Trellis's own products at a\n"
    "square size and at a GPT-2 block's shapes, the best shape counts) for each thread count,\n"
    "and caches it as trellis-train's MFU reference for this CPU model, OpenBLAS kernels and\n"
    "thread count, in $XDG_CACHE_HOME/trellis/peak/ (~/.cache/trellis/peak/).\n"
    "\n"
    "  --threads LIST   thread counts per rank to measure, e.g. 1,2,4 (1 and this machine's\n"
    "                   cores); a run uses the calibration of its [device] threads\n"
    "  --seconds S      time per thread count, at least 1 (2)\n"
    "  --blas-core C    OpenBLAS kernels, as [device] blas_core: auto, keep or a core's\n"
    "                   name (auto)\n"
    "\n"
    "Exit: 0 success, 1 the calibration could not be written, 2 bad arguments.\n";

namespace {

int parse_thread_count(const std::string& text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < 1 ||
      value > 4096) {
    throw InputError("--threads: '" + text + "' is not a thread count from 1 to 4096");
  }
  return value;
}

double parse_seconds(const std::string& text) {
  double value = 0.0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !(value >= 1.0) ||
      value > 3600.0) {
    throw InputError("--seconds " + text + ": not a number of seconds from 1 to 3600");
  }
  return value;
}

}  // namespace

PeakBenchOptions parse_peak_options(const std::vector<std::string>& words) {
  PeakBenchOptions o;
  FlagWords args(words);
  while (args.next()) {
    const std::string& flag = args.flag();
    if (flag == "--help" || flag == "-h") {
      o.help = true;
    } else if (flag == "--threads") {
      const std::string list = args.value();
      o.threads.clear();
      std::size_t start = 0;
      while (true) {
        const std::size_t comma = list.find(',', start);
        o.threads.push_back(parse_thread_count(list.substr(start, comma - start)));
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    } else if (flag == "--seconds") {
      o.seconds = parse_seconds(args.value());
    } else if (flag == "--blas-core") {
      o.blas_core = args.value();
    } else {
      throw InputError("unknown option '" + flag +
                       "'; valid: --threads, --seconds, --blas-core, "
                       "--help");
    }
  }
  return o;
}

}  // namespace trellis::bench
