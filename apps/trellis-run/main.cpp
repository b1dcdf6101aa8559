// trellis-run -n N [--nnodes K --node-rank I --store HOST:PORT] [--mpirun] [--timeout S]
//             [--grace S] [--tag-output] -- CMD [ARGS...]
//
// Starts the ranks of a run on this node and watches them (launch/launcher.h). Exit codes: 0 when
// every rank exits 0; the failed rank's code (128 + signal when killed) when one fails; 2 for bad
// arguments; 1 when the launcher itself fails (the store cannot be served or reached).
//
// `trellis-run --report-exit -- CMD` is the wrapper trellis-run --mpirun puts around each rank
// (launch/reporting_rank.h); users do not call it.
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "config/did_you_mean.h"
#include "launch/flight_report.h"
#include "launch/launcher.h"
#include "launch/openblas_reexec.h"
#include "launch/reporting_rank.h"
#include "trellis/error.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitBadInput = 2;

constexpr const char* kUsage =
    "usage: trellis-run -n N [--nnodes K --node-rank I --store HOST:PORT] [--mpirun]\n"
    "                   [--timeout S] [--grace S] [--tag-output] -- CMD [ARGS...]\n"
    "       trellis-run --flight-report DIR\n"
    "\n"
    "Starts N ranks of CMD on this node, each with TRELLIS_RANK, TRELLIS_WORLD_SIZE,\n"
    "TRELLIS_LOCAL_RANK, TRELLIS_LOCAL_WORLD_SIZE, TRELLIS_NODE_RANK and TRELLIS_STORE, and\n"
    "serves the store they find each other through. When a rank fails, stops the others and\n"
    "exits with its code (128 + signal when it was killed). Where OpenBLAS fell back to\n"
    "generic kernels on this CPU, the ranks start with OPENBLAS_CORETYPE set to its best ones\n"
    "(unless OPENBLAS_CORETYPE is set already). See docs/launching.md.\n"
    "\n"
    "  -n, --nproc N      ranks on this node\n"
    "  --nnodes K         nodes in the run, each running trellis-run with the same -n (1)\n"
    "  --node-rank I      this node, 0 to K-1 (0); node 0 serves the store\n"
    "  --store HOST:PORT  node 0: the address the others connect to, serving on PORT (0: any\n"
    "                     free port, printed); other nodes: node 0's address (required)\n"
    "  --mpirun           start the ranks through Open MPI's mpirun -n N (one node)\n"
    "  --timeout S        seconds to wait for the store and the other nodes (300)\n"
    "  --grace S          seconds ranks get to stop after SIGTERM before SIGKILL (3)\n"
    "  --tag-output       prefix every line the ranks print with \"[RANK]: \"\n"
    "  --flight-report DIR  print the analysis of the flight records (rank-R.json) the ranks of a\n"
    "                     failed run wrote in DIR: which operation of which group the ranks\n"
    "                     disagree on (for runs started without trellis-run: <out_dir>/flight)\n"
    "  --help, -h         show this help\n";

trellis::InputError usage_error(const std::string& what) {
  return trellis::InputError(what + "\n" + kUsage);
}

long parse_number(const std::string& flag, std::string_view text, long low, long high) {
  long value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || value < low ||
      value > high) {
    throw usage_error(flag + " " + std::string(text) + ": not an integer from " +
                      std::to_string(low) + " to " + std::to_string(high));
  }
  return value;
}

struct Arguments {
  trellis::LaunchOptions launch;
  bool help = false;
  bool report_exit = false;
  std::string flight_report;  // --flight-report DIR
};

Arguments parse_arguments(int argc, char** argv) {
  Arguments args;
  trellis::LaunchOptions& o = args.launch;
  bool have_nproc = false;
  int i = 1;
  // "--flag value" or "--flag=value".
  auto value_of = [&](std::string_view arg, const std::string& flag) -> std::string {
    if (arg.size() > flag.size() && arg[flag.size()] == '=') {
      return std::string(arg.substr(flag.size() + 1));
    }
    if (i + 1 >= argc) throw usage_error(flag + " needs a value");
    return argv[++i];
  };
  auto is = [](std::string_view arg, std::string_view flag) {
    return arg == flag ||
           (arg.starts_with(flag) && arg.size() > flag.size() && arg[flag.size()] == '=');
  };
  for (; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") {
      ++i;
      break;
    }
    if (arg == "--help" || arg == "-h") {
      args.help = true;
    } else if (is(arg, "-n") || is(arg, "--nproc")) {
      const std::string flag(arg.substr(0, arg.find('=')));
      o.nproc = static_cast<int>(parse_number(flag, value_of(arg, flag), 1, 4096));
      have_nproc = true;
    } else if (is(arg, "--nnodes")) {
      o.nnodes = static_cast<int>(parse_number("--nnodes", value_of(arg, "--nnodes"), 1, 65536));
    } else if (is(arg, "--node-rank")) {
      o.node_rank =
          static_cast<int>(parse_number("--node-rank", value_of(arg, "--node-rank"), 0, 65535));
    } else if (is(arg, "--store")) {
      const std::string store = value_of(arg, "--store");
      const std::size_t colon = store.rfind(':');
      if (colon == std::string::npos || colon == 0) {
        throw usage_error("--store " + store + ": expected HOST:PORT, e.g. node001:29500");
      }
      o.store_host = store.substr(0, colon);
      if (o.store_host.size() > 2 && o.store_host.front() == '[' && o.store_host.back() == ']') {
        o.store_host = o.store_host.substr(1, o.store_host.size() - 2);
      }
      o.store_port = static_cast<std::uint16_t>(
          parse_number("--store port", std::string_view(store).substr(colon + 1), 0, 65535));
    } else if (arg == "--mpirun") {
      o.mpirun = true;
    } else if (is(arg, "--timeout")) {
      o.timeout = std::chrono::seconds(
          parse_number("--timeout", value_of(arg, "--timeout"), 1, 7 * 24 * 3600));
    } else if (is(arg, "--grace")) {
      o.grace = std::chrono::seconds(parse_number("--grace", value_of(arg, "--grace"), 0, 3600));
    } else if (arg == "--tag-output") {
      o.tag_output = true;
    } else if (is(arg, "--flight-report")) {
      args.flight_report = value_of(arg, "--flight-report");
    } else if (arg == "--report-exit") {
      args.report_exit = true;
    } else if (arg.starts_with("-")) {
      const std::string flag(arg.substr(0, arg.find('=')));
      throw usage_error("unknown option '" + flag + "'" +
                        trellis::did_you_mean(flag, {"--nproc", "--nnodes", "--node-rank",
                                                     "--store", "--mpirun", "--timeout", "--grace",
                                                     "--tag-output", "--flight-report", "--help"}));
    } else {
      break;  // the command, without a "--" before it
    }
  }
  for (; i < argc; ++i) o.command.emplace_back(argv[i]);
  if (args.help || !args.flight_report.empty()) return args;
  if (o.command.empty()) throw usage_error("no command to run; give it after --");
  if (!have_nproc && !args.report_exit) throw usage_error("-n N is required: ranks on this node");
  if (o.node_rank >= o.nnodes) {
    throw usage_error("--node-rank " + std::to_string(o.node_rank) + " is not a node of " +
                      std::to_string(o.nnodes) + "; valid: 0 to " + std::to_string(o.nnodes - 1));
  }
  if (o.node_rank > 0 && o.store_host.empty()) {
    throw usage_error("--node-rank " + std::to_string(o.node_rank) +
                      " needs --store HOST:PORT, the address node 0's trellis-run printed");
  }
  if (o.node_rank > 0 && o.store_port == 0) {
    throw usage_error("--store on node " + std::to_string(o.node_rank) +
                      " needs node 0's port, not 0");
  }
  return args;
}

// --flight-report DIR: the analysis of the records a failed run's ranks left in DIR.
int print_flight_report(const std::filesystem::path& dir) {
  std::vector<std::string> problems;
  const std::vector<trellis::FlightRankRecord> records =
      trellis::read_flight_records(dir, &problems);
  if (records.empty()) {
    std::string why;
    for (const std::string& p : problems) why += "\n  " + p;
    throw trellis::InputError("--flight-report " + dir.string() +
                              ": no flight record (rank-R.json) could be read there" + why);
  }
  int world_size = 0;
  for (const trellis::FlightRankRecord& r : records)
    world_size = std::max(world_size, r.world_size);
  std::cout << trellis::analyze_flight_records(records, world_size, problems);
  return kExitOk;
}

int run(int argc, char** argv) {
  Arguments args = parse_arguments(argc, argv);
  if (args.help) {
    std::cout << kUsage;
    return kExitOk;
  }
  if (args.report_exit) return trellis::run_reporting_rank(args.launch.command, "trellis-run");
  if (!args.flight_report.empty()) return print_flight_report(args.flight_report);
  // This executable wraps each rank when --mpirun is used.
  char self[4096] = {};
  if (::readlink("/proc/self/exe", self, sizeof self - 1) > 0) args.launch.rank_reporter = self;
  // Ranks start with the OpenBLAS kernels "auto" chooses; a rank whose [device] blas_core says
  // otherwise restarts once for its own.
  args.launch.rank_environment = trellis::openblas_rank_environment(trellis::choose_openblas_core(
      {}, trellis::BlasCoreState::of_this_process(), trellis::CpuFeatures::of_this_cpu()));
  return trellis::launch(args.launch);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const trellis::InputError& e) {
    std::cerr << "trellis-run: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const trellis::Error& e) {
    std::cerr << "trellis-run: " << e.what() << "\n";
    return kExitFailure;
  } catch (const std::exception& e) {
    std::cerr << "trellis-run: internal error: " << e.what() << "\n";
    return kExitFailure;
  }
}
