// The ucx backend's all_reduce, f32 sum, out of place, measured like mpi_allreduce_quick.
//
//   trellis-run -n RANKS -- ucx_allreduce_quick [--min BYTES] [--max BYTES] [--in-place]
//                                               [--bind] [--set KEY=VALUE]...
//
// --bind pins each rank to one core (local rank modulo the cores it may use), as mpirun does by
// default for a few ranks; trellis-run leaves placement to the kernel.
// --set gives [comm.ucx] options (chunk_bytes=262144, tls=sm,self, ...); UCX_* environment
// variables pass through to UCX.
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench_sizes.h"
#include "comm/store_spec.h"
#include "launch/rank_environment.h"
#include "trellis/plugin_registry.h"

namespace {

struct Args {
  std::size_t min_bytes = 0;
  std::size_t max_bytes = 64u << 20;
  bool in_place = false;
  bool bind = false;
  trellis::Options options;
};

Args parse(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--min" && i + 1 < argc) {
      args.min_bytes = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--max" && i + 1 < argc) {
      args.max_bytes = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--in-place") {
      args.in_place = true;
    } else if (a == "--bind") {
      args.bind = true;
    } else if (a == "--set" && i + 1 < argc) {
      const std::string kv = argv[++i];
      const auto eq = kv.find('=');
      const std::string key = kv.substr(0, eq), value = kv.substr(eq + 1);
      char* end = nullptr;
      const long long number = std::strtoll(value.c_str(), &end, 10);
      if (!value.empty() && *end == '\0') {
        args.options.set(key, static_cast<std::int64_t>(number));
      } else {
        args.options.set(key, value);
      }
    } else {
      std::fprintf(
          stderr,
          "usage: %s [--min BYTES] [--max BYTES] [--in-place] [--bind] [--set KEY=VALUE]...\n",
          argv[0]);
      std::exit(2);
    }
  }
  return args;
}

// Pins this process to the `index`-th core it may run on (modulo their number).
void bind_to_core(int index) {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) return;
  std::vector<int> cores;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &allowed)) cores.push_back(c);
  }
  if (cores.empty()) return;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cores[static_cast<std::size_t>(index) % cores.size()], &one);
  sched_setaffinity(0, sizeof(one), &one);
}

int run_rank(const Args& args) {
  const auto environment = trellis::RankEnvironment::from_process();
  const int rank = environment.rank, ranks = environment.world_size;
  if (ranks < 2) {
    std::fprintf(stderr, "run under trellis-run -n RANKS (2 or more)\n");
    return 2;
  }
  if (args.bind) bind_to_core(environment.local_rank);
  const auto registry = trellis::PluginRegistry::discover({{TRELLIS_UCX_PLUGIN_FILE, "bench"}});
  const auto store = trellis::connect_store(environment.store, std::chrono::seconds(60));
  trellis::CommInit init;
  init.rank = rank;
  init.world_size = ranks;
  init.store = store.get();
  init.timeout = std::chrono::seconds(60);
  init.options = &args.options;
  auto comm = registry.make_comm("ucx", init);
  const auto allocator = trellis::make_cpu_allocator();
  if (rank == 0) {
    trellis::bench::print_header(args.in_place ? "ucx all_reduce (in place)" : "ucx all_reduce",
                                 ranks);
  }
  for (std::size_t bytes : trellis::bench::all_reduce_sizes(args.min_bytes, args.max_bytes)) {
    const auto count = static_cast<std::int64_t>(bytes / sizeof(float));
    auto in = trellis::Tensor::empty({count}, trellis::DType::f32, allocator);
    auto out = args.in_place ? in : trellis::Tensor::empty({count}, trellis::DType::f32, allocator);
    for (std::int64_t i = 0; i < count; ++i) in.data<float>()[i] = 1.0f;
    const int iterations = trellis::bench::iterations_for(bytes);
    for (int i = 0; i < 5; ++i) comm->all_reduce(in, out, trellis::ReduceOp::sum)->wait();
    comm->barrier()->wait();
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    auto last = start;
    double best = 1e30;
    for (int i = 0; i < iterations; ++i) {
      comm->all_reduce(in, out, trellis::ReduceOp::sum)->wait();
      const auto now = clock::now();
      best = std::min(best, std::chrono::duration<double>(now - last).count());
      last = now;
    }
    const double seconds = std::chrono::duration<double>(last - start).count() / iterations;
    if (rank == 0) trellis::bench::print_row(bytes, seconds, best, ranks);
  }
  comm->barrier()->wait();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return run_rank(parse(argc, argv));
}
