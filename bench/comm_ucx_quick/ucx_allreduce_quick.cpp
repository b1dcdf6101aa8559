// The ucx backend's all_reduce, f32 sum, out of place, measured like mpi_allreduce_quick.
//
//   ucx_allreduce_quick -n RANKS [--max BYTES] [--in-place] [--set KEY=VALUE]...
//
// Starts RANKS copies of itself (a file store in a temporary directory) unless it already runs
// as a rank (TRELLIS_RANK set, e.g. under trellis-run). --set gives [comm.ucx] options
// (chunk_bytes=262144, tls=sm,self, ...); UCX_* environment variables pass through to UCX.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "bench_sizes.h"
#include "comm/file_store.h"
#include "trellis/plugin_registry.h"

namespace {

struct Args {
  int ranks = 2;
  std::size_t max_bytes = 64u << 20;
  bool in_place = false;
  trellis::Options options;
};

Args parse(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-n" && i + 1 < argc) {
      args.ranks = std::atoi(argv[++i]);
    } else if (a == "--max" && i + 1 < argc) {
      args.max_bytes = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--in-place") {
      args.in_place = true;
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
      std::fprintf(stderr, "usage: %s -n RANKS [--max BYTES] [--in-place] [--set KEY=VALUE]...\n",
                   argv[0]);
      std::exit(2);
    }
  }
  return args;
}

int run_rank(const Args& args, int rank, int ranks, const std::string& store_dir) {
  const auto registry = trellis::PluginRegistry::discover({{TRELLIS_UCX_PLUGIN_FILE, "bench"}});
  trellis::FileStore store(store_dir);
  trellis::CommInit init;
  init.rank = rank;
  init.world_size = ranks;
  init.store = &store;
  init.timeout = std::chrono::seconds(60);
  init.options = &args.options;
  auto comm = registry.make_comm("ucx", init);
  const auto allocator = trellis::make_cpu_allocator();
  if (rank == 0) {
    trellis::bench::print_header(args.in_place ? "ucx all_reduce (in place)" : "ucx all_reduce",
                                 ranks);
  }
  for (std::size_t bytes : trellis::bench::all_reduce_sizes(args.max_bytes)) {
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
  const Args args = parse(argc, argv);
  if (const char* rank = std::getenv("TRELLIS_RANK")) {
    std::string store = std::getenv("TRELLIS_STORE") ? std::getenv("TRELLIS_STORE") : "";
    if (store.rfind("file:", 0) == 0) store = store.substr(5);
    return run_rank(args, std::atoi(rank), std::atoi(std::getenv("TRELLIS_WORLD_SIZE")), store);
  }
  char dir[] = "/tmp/trellis-bench-XXXXXX";
  if (mkdtemp(dir) == nullptr) return 1;
  std::vector<pid_t> children;
  for (int r = 0; r < args.ranks; ++r) {
    const pid_t pid = fork();
    if (pid == 0) _exit(run_rank(args, r, args.ranks, dir));
    children.push_back(pid);
  }
  int failed = 0;
  for (pid_t pid : children) {
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failed;
  }
  std::filesystem::remove_all(dir);
  return failed == 0 ? 0 : 1;
}
