// comm_conformance BACKEND [--timeout S] [--no-large] [--scratch DIR] [--option KEY=VALUE]...
//
// The conformance suite of a communication backend: one rank of it, started with its peers by
// `trellis-run -n N` (`trellis-run --mpirun -n N` for backend mpi), or alone for a world of one.
// The world communicator comes from create_world, as trellis-train gets it (a world of one is
// core's SelfCommunicator, whatever BACKEND says), and every part of suite.h runs on it. For
// backend nccl each rank uses GPU (local rank mod visible GPUs) and the suite's buffers are CUDA
// managed memory.
//
// Output: each failure as it happens, one line naming the case (operation, dtype, count,
// placement, group, rank) and the first wrong element; then one summary line per rank, and on
// rank 0 the total over all ranks. Exit 0 when nothing failed on this rank, 1 otherwise (2 for
// bad arguments): trellis-run then names the failing rank.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "device/cuda_device.h"
#include "device/cuda_probe.h"
#include "launch/rank_environment.h"
#include "launch/world.h"
#include "suite.h"
#include "trellis/error.h"
#include "trellis/plugin_registry.h"

namespace {

using trellis::Communicator;
using trellis::conformance::CaseReport;
using trellis::conformance::StopRun;
using trellis::conformance::Suite;

constexpr const char* kUsage =
    "usage: comm_conformance BACKEND [--timeout S] [--no-large] [--scratch DIR]\n"
    "                        [--option KEY=VALUE]...\n"
    "  run one rank per process: trellis-run -n N [--mpirun] -- comm_conformance BACKEND\n"
    "  --timeout S          the world communicator's timeout in seconds (60)\n"
    "  --no-large           skip the 64 MiB cases\n"
    "  --scratch DIR        a directory every rank sees, for the barrier ordering check\n"
    "  --option KEY=VALUE   a [comm.BACKEND] option (integers as numbers), to check the\n"
    "                       algorithms a backend picks by size under other thresholds\n";

struct Arguments {
  std::string backend;
  int timeout_s = 60;
  bool large = true;
  std::string scratch_dir;
  trellis::Options options;
};

// "KEY=VALUE": an integer when VALUE is one, else a string.
bool parse_option(const std::string& text, trellis::Options& options) {
  const std::size_t eq = text.find('=');
  if (eq == 0 || eq == std::string::npos) return false;
  const std::string key = text.substr(0, eq), value = text.substr(eq + 1);
  char* end = nullptr;
  const long long number = std::strtoll(value.c_str(), &end, 10);
  if (!value.empty() && *end == '\0') {
    options.set(key, std::int64_t{number});
  } else {
    options.set(key, value);
  }
  return true;
}

bool parse(int argc, char** argv, Arguments& args) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--timeout" && i + 1 < argc) {
      args.timeout_s = std::atoi(argv[++i]);
      if (args.timeout_s <= 0) return false;
    } else if (arg == "--no-large") {
      args.large = false;
    } else if (arg == "--scratch" && i + 1 < argc) {
      args.scratch_dir = argv[++i];
    } else if (arg == "--option" && i + 1 < argc) {
      if (!parse_option(argv[++i], args.options)) return false;
    } else if (!arg.starts_with("-") && args.backend.empty()) {
      args.backend = arg;
    } else {
      return false;
    }
  }
  return !args.backend.empty();
}

// Runs `part`; rank 0 says how long it took (the suite has a time budget in CI).
template <class Part>
void timed(Suite& suite, const char* name, Part part) {
  const auto start = std::chrono::steady_clock::now();
  part();
  if (suite.world.rank() == 0) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    char text[96];
    std::snprintf(text, sizeof text, "%s: %.1f s", name, seconds);
    suite.report.note(text);
  }
}

// Runs the parts in suite.h's order; false when the run stopped early (StopRun).
bool run_parts(Suite& suite) {
  using namespace trellis::conformance;
  Communicator& world = suite.world;
  try {
    timed(suite, "collectives", [&] { check_collectives(suite, world, suite.counts, true); });
    timed(suite, "NaN in max and min", [&] { check_nan_reductions(suite, world); });
    timed(suite, "barrier", [&] { check_barrier(suite, world); });
    timed(suite, "point-to-point", [&] { check_point_to_point(suite, world); });
    timed(suite, "in flight", [&] { check_in_flight(suite); });
    timed(suite, "split", [&] { check_split(suite); });
    timed(suite, "refusals", [&] { check_refusals(suite, world); });
    timed(suite, "wrong arguments", [&] { check_arguments(suite, world); });
    timed(suite, "timeouts", [&] { check_timeout(suite); });
    return true;
  } catch (const StopRun& stop) {
    suite.report.note(std::string("stopped early: ") + stop.what());
    return false;
  }
}

// The failures over all ranks, when the world can still be asked; -1 when it cannot.
long total_failures(trellis::Communicator& world, const CaseReport& report,
                    const std::shared_ptr<trellis::Allocator>& allocator) {
  try {
    const trellis::Tensor count = trellis::Tensor::empty({1}, trellis::DType::i32, allocator);
    *count.data<std::int32_t>() = report.failures();
    world.all_reduce(count, count, trellis::ReduceOp::sum)->wait();
    return *count.data<std::int32_t>();
  } catch (const std::exception&) {
    return -1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  Arguments args;
  if (!parse(argc, argv, args)) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  std::shared_ptr<trellis::Communicator> world;
  trellis::RankEnvironment environment;
  std::shared_ptr<trellis::Allocator> allocator;
  try {
    environment = trellis::RankEnvironment::from_process();
    // nccl moves GPU memory: one GPU per rank, and managed memory the suite can fill and check
    // on the host like the CPU backends' buffers.
    trellis::Device device = trellis::Device::cpu();
    allocator = trellis::make_cpu_allocator();
    if (args.backend == "nccl") {
      // GPU = local rank modulo the GPUs this process sees (one each under srun --gpus-per-task).
      const int gpus = std::max(1, trellis::probe_cuda().device_count);
      device = trellis::Device::cuda(environment.local_rank % gpus);
      allocator = trellis::make_cuda_managed_allocator(device.index);
    }
    const trellis::PluginRegistry registry = trellis::PluginRegistry::discover(
        trellis::PluginRegistry::search_path(std::getenv("TRELLIS_PLUGIN_PATH"), {}));
    world = trellis::create_world(registry, args.backend, args.options, environment,
                                  std::chrono::seconds(args.timeout_s), device);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "conformance %s: could not make the world communicator: %s\n",
                 args.backend.c_str(), error.what());
    return 1;
  }

  CaseReport report(args.backend, environment.rank, environment.world_size);
  bool world_ok = world->rank() == environment.rank && world->size() == environment.world_size;
  const bool self_expected = environment.world_size == 1;
  if (self_expected != (std::strcmp(world->backend(), "self") == 0)) world_ok = false;
  if (!world_ok) {
    report.fail({"create_world", trellis::DType::f32, 0,
                 trellis::conformance::Placement::single_buffer, "world"},
                "got rank " + std::to_string(world->rank()) + " of " +
                    std::to_string(world->size()) + " (backend " + world->backend() +
                    "), the launcher said rank " + std::to_string(environment.rank) + " of " +
                    std::to_string(environment.world_size));
    std::fprintf(stderr, "%s\n", report.summary().c_str());
    return 1;
  }

  Suite suite{
      .world = *world,
      .report = report,
      .allocator = allocator,
      // 0, 1 and 7 elements; 1 KiB of f32; odd counts either side of 1 MiB of f32 (2^18
      // elements), where chunked and pipelined algorithms split unevenly.
      .counts = {0, 1, 7, 256, 262143, 262147},
      .large_count = args.large ? (std::int64_t{64} << 20) / 4 : 0,
      .scratch_dir = args.scratch_dir,
      .short_timeout = std::chrono::milliseconds(1500),
  };

  const bool completed = run_parts(suite);
  std::fprintf(stderr, "%s%s\n", report.summary().c_str(), completed ? "" : " (stopped early)");
  if (completed) {
    const long total = total_failures(*world, report, suite.allocator);
    if (world->rank() == 0 && total >= 0) {
      std::fprintf(stderr, "conformance %s, world of %d: %s (%ld failures over all ranks)\n",
                   args.backend.c_str(), world->size(), total == 0 ? "PASSED" : "FAILED", total);
    }
  }
  world.reset();
  return completed && report.failures() == 0 ? 0 : 1;
}
