// comm_mpi_quick: the mpi backend's all_reduce against raw MPI_Allreduce.
//
//   mpirun -n 2 build/bin/comm_mpi_quick [--rounds R] [--max-bytes B]
//                                        [--small-all-reduce-bytes N] [--only-trellis 1]
//
// Both run in the same job on the same buffers (f32 sum, out of place), in alternating rounds so
// that a busy machine slows both alike. A round's time is its mean per call, the slowest rank's;
// the table gives each side's median round (and best), with nccl-tests' bus bandwidth
// (bytes / time x 2(n-1)/n) and the ratio Trellis / raw. The Trellis side is what a caller does:
// all_reduce(...)->wait() through the plugin registry.
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "trellis/comm.h"
#include "trellis/plugin_registry.h"

namespace {

struct Timing {
  double median_us;
  double best_us;
};

Timing summarise(std::vector<double> rounds) {
  std::sort(rounds.begin(), rounds.end());
  return {rounds[rounds.size() / 2] * 1e6, rounds.front() * 1e6};
}

// Mean seconds per call of `call` over `iterations`, the slowest rank's.
template <class Call>
double time_round(int iterations, const Call& call) {
  MPI_Barrier(MPI_COMM_WORLD);
  const double start = MPI_Wtime();
  for (int i = 0; i < iterations; ++i) call();
  const double mine = (MPI_Wtime() - start) / iterations;
  double slowest = 0;
  MPI_Allreduce(&mine, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return slowest;
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 15;
  bool only_ours = false;    // --only-trellis 1: for profiling the backend alone
  trellis::Options options;  // [comm.mpi]
  std::size_t max_bytes = std::size_t{64} << 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--small-all-reduce-bytes") == 0) {
      options.set("small_all_reduce_bytes", std::int64_t{std::atoll(argv[i + 1])});
    }
    if (std::strcmp(argv[i], "--only-trellis") == 0) only_ours = std::atoi(argv[i + 1]) != 0;
    if (std::strcmp(argv[i], "--max-bytes") == 0)
      max_bytes = std::strtoull(argv[i + 1], nullptr, 10);
  }
  const char* rank_env = std::getenv("OMPI_COMM_WORLD_RANK");
  const char* size_env = std::getenv("OMPI_COMM_WORLD_SIZE");
  if (!rank_env || !size_env) {
    std::fprintf(stderr, "run me under mpirun: mpirun -n 2 %s\n", argv[0]);
    return 2;
  }
  trellis::CommInit init;
  init.rank = std::atoi(rank_env);
  init.world_size = std::atoi(size_env);
  init.options = &options;
  const trellis::PluginRegistry registry = trellis::PluginRegistry::discover(
      trellis::PluginRegistry::search_path(std::getenv("TRELLIS_PLUGIN_PATH"), {}));
  std::shared_ptr<trellis::Communicator> comm = registry.make_comm("mpi", init);
  const int size = comm->size();
  const bool report = comm->rank() == 0;
  const std::shared_ptr<trellis::Allocator> cpu = trellis::make_cpu_allocator();

  if (report) {
    std::printf("all_reduce f32 sum, out of place, %d ranks; median (best) of %d rounds\n", size,
                rounds);
    std::printf("%10s %22s %22s %10s %10s %7s\n", "bytes", "raw MPI_Allreduce us", "trellis mpi us",
                "raw GB/s", "trellis", "ratio");
  }
  for (const std::size_t bytes :
       {std::size_t{8}, std::size_t{64}, std::size_t{1} << 10, std::size_t{16} << 10,
        std::size_t{256} << 10, std::size_t{1} << 20, std::size_t{4} << 20, std::size_t{16} << 20,
        std::size_t{64} << 20}) {
    if (bytes > max_bytes) break;
    const std::int64_t count = static_cast<std::int64_t>(bytes / sizeof(float));
    const trellis::Tensor input = trellis::Tensor::empty({count}, trellis::DType::f32, cpu);
    const trellis::Tensor output = trellis::Tensor::empty({count}, trellis::DType::f32, cpu);
    std::fill_n(input.data<float>(), count, 1.0f);
    const int iterations =
        static_cast<int>(std::clamp<std::size_t>((64u << 20) / bytes / 4, 5, 5000));
    auto raw = [&] {
      MPI_Allreduce(input.data_ptr(), output.data_ptr(), static_cast<int>(count), MPI_FLOAT,
                    MPI_SUM, MPI_COMM_WORLD);
    };
    auto ours = [&] { comm->all_reduce(input, output, trellis::ReduceOp::sum)->wait(); };
    time_round(iterations, raw);  // warm up both
    time_round(iterations, ours);
    std::vector<double> raw_rounds, our_rounds;
    for (int r = 0; r < rounds; ++r) {
      raw_rounds.push_back(only_ours ? 1.0 : time_round(iterations, raw));
      our_rounds.push_back(time_round(iterations, ours));
    }
    if (output.data<float>()[count - 1] != static_cast<float>(size)) {
      std::fprintf(stderr, "wrong result: %g\n", output.data<float>()[count - 1]);
      return 1;
    }
    const Timing raw_time = summarise(raw_rounds);
    const Timing our_time = summarise(our_rounds);
    const double bus = 2.0 * (size - 1) / size;
    auto gbs = [&](double us) { return static_cast<double>(bytes) / (us * 1e3) * bus; };
    if (report) {
      std::printf("%10zu %11.2f (%8.2f) %11.2f (%8.2f) %10.3f %10.3f %7.2f\n", bytes,
                  raw_time.median_us, raw_time.best_us, our_time.median_us, our_time.best_us,
                  gbs(raw_time.median_us), gbs(our_time.median_us),
                  our_time.median_us / raw_time.median_us);
    }
  }
  comm.reset();  // the world communicator: finalises MPI
  return 0;
}
